@file:Suppress("unused", "UNUSED_PARAMETER")
package androidx.core.content

object ContextCompat { fun checkSelfPermission(c: android.content.Context, p: String): Int = 0; fun startForegroundService(c: android.content.Context, i: android.content.Intent) {} }
open class FileProvider { companion object { fun getUriForFile(c: android.content.Context, a: String, f: java.io.File): android.net.Uri = android.net.Uri() } }
