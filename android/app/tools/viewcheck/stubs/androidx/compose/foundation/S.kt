@file:Suppress("unused", "UNUSED_PARAMETER")
package androidx.compose.foundation

import androidx.compose.ui.Modifier
fun Modifier.background(c: androidx.compose.ui.graphics.Color, shape: androidx.compose.ui.graphics.Shape? = null): Modifier = this
fun Modifier.border(w: androidx.compose.ui.unit.Dp, c: androidx.compose.ui.graphics.Color, s: androidx.compose.ui.graphics.Shape): Modifier = this
fun Modifier.clickable(enabled: Boolean = true, onClickLabel: String? = null, role: androidx.compose.ui.semantics.Role? = null, onClick: () -> Unit): Modifier = this
fun Modifier.verticalScroll(s: ScrollState): Modifier = this
class ScrollState
@androidx.compose.runtime.Composable fun rememberScrollState(): ScrollState = TODO()
@androidx.compose.runtime.Composable fun isSystemInDarkTheme(): Boolean = false
