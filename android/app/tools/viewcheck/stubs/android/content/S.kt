@file:Suppress("unused", "UNUSED_PARAMETER")
package android.content

open class Context {
    open val applicationContext: Context get() = this
    open val packageName: String get() = ""
    open val cacheDir: java.io.File get() = java.io.File("")
    open val filesDir: java.io.File get() = java.io.File("")
    open val contentResolver: ContentResolver get() = ContentResolver()
    fun <T> getSystemService(c: Class<T>): T = TODO()
    fun getString(id: Int): String = ""
    fun getSharedPreferences(name: String, mode: Int): SharedPreferences = TODO()
    open fun startActivity(i: Intent) {}
    fun stopService(i: Intent): Boolean = true
    companion object { const val MODE_PRIVATE = 0 }
}
class ContentResolver {
    fun query(uri: android.net.Uri, p: Array<String>?, s: String?, a: Array<String>?, o: String?): android.database.Cursor? = null
    fun openInputStream(uri: android.net.Uri): java.io.InputStream? = null
}
interface SharedPreferences {
    fun getString(k: String, d: String?): String?
    fun edit(): Editor
    interface Editor { fun putString(k: String, v: String?): Editor; fun remove(k: String): Editor; fun commit(): Boolean }
}
class ComponentName(c: Context, cls: Class<*>)
open class Intent() {
    constructor(c: Context, cls: Class<*>) : this()
    constructor(action: String) : this()
    var action: String? = null
    var clipData: ClipData? = null
    fun setAction(a: String): Intent = this
    fun setType(t: String): Intent = this
    fun setDataAndType(u: android.net.Uri, t: String?): Intent = this
    fun putExtra(k: String, v: String?): Intent = this
    fun putExtra(k: String, v: android.os.Parcelable?): Intent = this
    fun addFlags(f: Int): Intent = this
    fun getStringExtra(k: String): String? = null
    companion object {
        const val ACTION_SEND = "s"; const val ACTION_VIEW = "v"; const val EXTRA_STREAM = "e"; const val EXTRA_SUBJECT = "x"
        const val FLAG_GRANT_READ_URI_PERMISSION = 1; const val FLAG_ACTIVITY_NEW_TASK = 2; const val FLAG_ACTIVITY_SINGLE_TOP = 4
        fun createChooser(i: Intent, t: CharSequence?): Intent = i
    }
}
class ClipData { companion object { fun newRawUri(l: CharSequence?, u: android.net.Uri): ClipData = ClipData() } }
abstract class BroadcastReceiver {
    abstract fun onReceive(context: Context, intent: Intent)
    fun goAsync(): PendingResult = TODO()
    class PendingResult { fun finish() {} }
}

class ActivityNotFoundException : RuntimeException()
