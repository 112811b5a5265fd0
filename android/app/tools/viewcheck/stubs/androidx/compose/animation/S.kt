@file:Suppress("unused", "UNUSED_PARAMETER")
package androidx.compose.animation
@androidx.compose.runtime.Composable fun AnimatedVisibility(visible: Boolean, content: @androidx.compose.runtime.Composable () -> Unit) {}