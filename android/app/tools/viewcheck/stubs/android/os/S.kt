@file:Suppress("unused", "UNUSED_PARAMETER")
package android.os

interface Parcelable
interface IBinder
class Bundle { fun putString(k: String, v: String?) {}; fun putParcelable(k: String, v: Parcelable?) {}; fun putBundle(k: String, v: Bundle?) {}
  fun getString(k: String): String? = null; fun getBundle(k: String): Bundle? = null }
object Build { object VERSION { const val SDK_INT = 36 }; object VERSION_CODES { const val S = 31; const val O_MR1 = 27; const val Q = 29; const val R = 30; const val TIRAMISU = 33 } }
