@file:Suppress("unused", "UNUSED_PARAMETER")
package androidx.activity.result

abstract class ActivityResultLauncher<I> { abstract fun launch(input: I) }
fun interface ActivityResultCallback<O> { fun onActivityResult(result: O) }
