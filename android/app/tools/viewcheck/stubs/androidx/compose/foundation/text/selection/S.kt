@file:Suppress("unused", "UNUSED_PARAMETER")
package androidx.compose.foundation.text.selection
@androidx.compose.runtime.Composable fun SelectionContainer(content: @androidx.compose.runtime.Composable () -> Unit) {}