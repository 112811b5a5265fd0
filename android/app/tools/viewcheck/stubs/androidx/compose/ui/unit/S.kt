@file:Suppress("unused", "UNUSED_PARAMETER")
package androidx.compose.ui.unit

@JvmInline value class Dp(val value: Float) { operator fun div(o: Int): Dp = this }
val Int.dp: Dp get() = Dp(toFloat())
