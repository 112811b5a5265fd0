@file:Suppress("unused", "UNUSED_PARAMETER")
package androidx.compose.foundation.shape
object CircleShape : androidx.compose.ui.graphics.Shape
class RoundedCornerShape(d: androidx.compose.ui.unit.Dp) : androidx.compose.ui.graphics.Shape