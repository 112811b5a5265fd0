@file:Suppress("unused", "UNUSED_PARAMETER")
package androidx.lifecycle

abstract class Lifecycle { abstract fun addObserver(o: LifecycleObserver) }
interface LifecycleObserver
interface LifecycleOwner { val lifecycle: Lifecycle }
interface DefaultLifecycleObserver : LifecycleObserver { fun onStart(owner: LifecycleOwner) {}; fun onStop(owner: LifecycleOwner) {} }
class ProcessLifecycleOwner { companion object { fun get(): LifecycleOwner = TODO() } }
abstract class ViewModel { protected open fun onCleared() {} }
val ViewModel.viewModelScope: kotlinx.coroutines.CoroutineScope get() = TODO()
val LifecycleOwner.lifecycleScope: kotlinx.coroutines.CoroutineScope get() = TODO()
