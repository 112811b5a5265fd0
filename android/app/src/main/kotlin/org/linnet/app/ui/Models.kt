// Presentation models inside androidx ViewModels: each screen's model lives as long as the screen's
// back stack entry (survives rotation), runs in viewModelScope and is closed when the entry goes.
package org.linnet.app.ui

import androidx.compose.runtime.Composable
import androidx.lifecycle.ViewModel
import androidx.lifecycle.viewModelScope
import androidx.lifecycle.viewmodel.compose.viewModel
import kotlinx.coroutines.CoroutineScope

class ModelHolder<M : Any>(create: (CoroutineScope) -> M?, private val close: (M) -> Unit) : ViewModel() {
    val model: M? = create(viewModelScope)

    override fun onCleared() {
        model?.let(close)
    }
}

/**
 * The screen's model, created once per [key] in the current ViewModelStoreOwner (the navigation
 * entry); null when the factory has none (e.g. the account went away meanwhile).
 */
@Composable
fun <M : Any> rememberModel(key: String, create: (CoroutineScope) -> M?, close: (M) -> Unit): M? {
    val holder = viewModel<ModelHolder<*>>(key = key) { ModelHolder(create, close) }
    @Suppress("UNCHECKED_CAST")
    return holder.model as M?
}
