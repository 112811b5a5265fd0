@file:Suppress("unused", "UNUSED_PARAMETER")
package androidx.compose.ui.graphics

class Color(v: Long) { constructor(v: Int) : this(v.toLong()); companion object { val Gray = Color(0); val White = Color(0); val Unspecified = Color(0) } }

interface Shape
