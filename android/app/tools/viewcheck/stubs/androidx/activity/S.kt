@file:Suppress("unused", "UNUSED_PARAMETER")
package androidx.activity

open class ComponentActivity : android.app.Activity(), androidx.lifecycle.LifecycleOwner {
  open val application: android.app.Application get() = TODO()
  open val intent: android.content.Intent? get() = null
  fun setIntent(i: android.content.Intent?) {}
  open fun onCreate(savedInstanceState: android.os.Bundle?) {}
  open fun onNewIntent(intent: android.content.Intent) {}
  open fun onDestroy() {}
  override val lifecycle: androidx.lifecycle.Lifecycle get() = TODO()
  fun <I, O> registerForActivityResult(c: androidx.activity.result.contract.ActivityResultContract<I, O>, cb: androidx.activity.result.ActivityResultCallback<O>): androidx.activity.result.ActivityResultLauncher<I> = TODO() }
fun ComponentActivity.enableEdgeToEdge() {}
