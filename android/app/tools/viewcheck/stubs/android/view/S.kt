@file:Suppress("unused")
package android.view
class WindowManager { class LayoutParams { companion object { const val FLAG_SHOW_WHEN_LOCKED = 1; const val FLAG_TURN_SCREEN_ON = 2 } } }
