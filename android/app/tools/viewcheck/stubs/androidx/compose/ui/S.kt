@file:Suppress("unused", "UNUSED_PARAMETER")
package androidx.compose.ui

interface Modifier { companion object : Modifier }
interface Alignment { interface Horizontal; interface Vertical
  companion object { val Center: Alignment = TODO(); val CenterEnd: Alignment = TODO(); val CenterStart: Alignment = TODO(); val BottomEnd: Alignment = TODO(); val BottomCenter: Alignment = TODO()
    val End: Horizontal = TODO(); val CenterHorizontally: Horizontal = TODO(); val CenterVertically: Vertical = TODO() } }
