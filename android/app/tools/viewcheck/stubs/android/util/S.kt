@file:Suppress("unused", "UNUSED_PARAMETER")
package android.util

object Log { fun w(t: String, m: String, e: Throwable? = null): Int = 0 }
object Base64 { const val NO_WRAP = 2; fun decode(s: String, f: Int): ByteArray = ByteArray(0); fun encodeToString(b: ByteArray, f: Int): String = "" }
