@file:Suppress("unused", "UNUSED_PARAMETER")
package androidx.compose.material.icons
object Icons { object Filled; object AutoMirrored { object Filled } }