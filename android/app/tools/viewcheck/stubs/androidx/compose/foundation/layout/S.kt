@file:Suppress("unused", "UNUSED_PARAMETER")
package androidx.compose.foundation.layout

import androidx.compose.runtime.Composable
import androidx.compose.ui.Modifier
import androidx.compose.ui.Alignment
import androidx.compose.ui.unit.Dp
interface PaddingValues
object Arrangement { interface Horizontal; interface Vertical; interface HorizontalOrVertical : Horizontal, Vertical; fun spacedBy(d: Dp): HorizontalOrVertical = TODO(); val Top: Vertical = TODO(); val Start: Horizontal = TODO() }
interface RowScope { fun Modifier.weight(w: Float, fill: Boolean = true): Modifier = this }
interface ColumnScope { fun Modifier.weight(w: Float, fill: Boolean = true): Modifier = this; fun Modifier.align(a: Alignment.Horizontal): Modifier = this }
interface BoxScope { fun Modifier.align(a: Alignment): Modifier = this }
@Composable fun Column(modifier: Modifier = Modifier, verticalArrangement: Arrangement.Vertical = Arrangement.Top, horizontalAlignment: Alignment.Horizontal = Alignment.CenterHorizontally, content: @Composable ColumnScope.() -> Unit) {}
@Composable fun Row(modifier: Modifier = Modifier, horizontalArrangement: Arrangement.Horizontal = Arrangement.Start, verticalAlignment: Alignment.Vertical = Alignment.CenterVertically, content: @Composable RowScope.() -> Unit) {}
@Composable fun Box(modifier: Modifier = Modifier, contentAlignment: Alignment = Alignment.Center, content: @Composable BoxScope.() -> Unit = {}) {}
@Composable fun Spacer(modifier: Modifier) {}
fun Modifier.fillMaxSize(): Modifier = this
fun Modifier.fillMaxWidth(): Modifier = this
fun Modifier.padding(p: PaddingValues): Modifier = this
fun Modifier.padding(all: Dp): Modifier = this
fun Modifier.padding(horizontal: Dp = Dp(0f), vertical: Dp = Dp(0f)): Modifier = this
fun Modifier.padding(start: Dp = Dp(0f), top: Dp = Dp(0f), end: Dp = Dp(0f), bottom: Dp = Dp(0f)): Modifier = this
fun Modifier.size(s: Dp): Modifier = this
fun Modifier.height(s: Dp): Modifier = this
fun Modifier.width(s: Dp): Modifier = this
fun Modifier.widthIn(min: Dp = Dp(0f), max: Dp = Dp(0f)): Modifier = this
fun Modifier.aspectRatio(r: Float): Modifier = this
fun Modifier.imePadding(): Modifier = this
fun Modifier.navigationBarsPadding(): Modifier = this
fun Modifier.safeDrawingPadding(): Modifier = this
fun Modifier.consumeWindowInsets(p: PaddingValues): Modifier = this
