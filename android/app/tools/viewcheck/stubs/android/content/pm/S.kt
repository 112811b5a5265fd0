@file:Suppress("unused", "UNUSED_PARAMETER")
package android.content.pm
class PackageManager { companion object { const val PERMISSION_GRANTED = 0 } }