@file:Suppress("unused")
package androidx.compose.ui.platform
object LocalContext { val current: android.content.Context @androidx.compose.runtime.Composable get() = TODO() }
