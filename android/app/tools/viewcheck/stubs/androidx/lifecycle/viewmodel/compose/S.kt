@file:Suppress("unused", "UNUSED_PARAMETER")
package androidx.lifecycle.viewmodel.compose

@androidx.compose.runtime.Composable inline fun <reified VM : androidx.lifecycle.ViewModel> viewModel(key: String? = null, noinline initializer: androidx.lifecycle.viewmodel.CreationExtras.() -> VM): VM = TODO()
