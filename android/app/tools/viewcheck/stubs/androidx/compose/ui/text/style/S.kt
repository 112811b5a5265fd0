@file:Suppress("unused", "UNUSED_PARAMETER")
package androidx.compose.ui.text.style

@JvmInline value class TextOverflow(val v: Int) { companion object { val Ellipsis = TextOverflow(1); val Clip = TextOverflow(0) } }
@JvmInline value class TextAlign(val v: Int) { companion object { val Center = TextAlign(1) } }
