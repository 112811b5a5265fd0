@file:Suppress("unused", "UNUSED_PARAMETER")
package androidx.compose.ui.draw
fun androidx.compose.ui.Modifier.clip(s: androidx.compose.ui.graphics.Shape): androidx.compose.ui.Modifier = this