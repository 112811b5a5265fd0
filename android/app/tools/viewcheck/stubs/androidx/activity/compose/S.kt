@file:Suppress("unused", "UNUSED_PARAMETER")
package androidx.activity.compose

fun androidx.activity.ComponentActivity.setContent(content: @androidx.compose.runtime.Composable () -> Unit) {}
@androidx.compose.runtime.Composable fun BackHandler(enabled: Boolean = true, onBack: () -> Unit) {}
@androidx.compose.runtime.Composable fun <I, O> rememberLauncherForActivityResult(contract: androidx.activity.result.contract.ActivityResultContract<I, O>, onResult: (O) -> Unit): androidx.activity.result.ActivityResultLauncher<I> = TODO()
