@file:Suppress("unused", "UNUSED_PARAMETER")
package androidx.lifecycle.compose

@androidx.compose.runtime.Composable fun <T> kotlinx.coroutines.flow.StateFlow<T>.collectAsStateWithLifecycle(): androidx.compose.runtime.State<T> = TODO()
class LifecyclePauseOrDisposeEffectResult
class LifecycleResumePauseEffectScope { fun onPauseOrDispose(b: () -> Unit): LifecyclePauseOrDisposeEffectResult = TODO() }
@androidx.compose.runtime.Composable fun LifecycleResumeEffect(key1: Any?, effects: LifecycleResumePauseEffectScope.() -> LifecyclePauseOrDisposeEffectResult) {}
