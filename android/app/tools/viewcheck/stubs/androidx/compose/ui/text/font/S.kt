@file:Suppress("unused", "UNUSED_PARAMETER")
package androidx.compose.ui.text.font

class FontWeight { companion object { val SemiBold = FontWeight(); val Normal = FontWeight() } }
@JvmInline value class FontStyle(val v: Int) { companion object { val Italic = FontStyle(1) } }
class FontFamily { companion object { val Monospace = FontFamily() } }
