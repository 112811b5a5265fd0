@file:Suppress("unused", "UNUSED_PARAMETER")
package androidx.compose.foundation.selection

import androidx.compose.ui.Modifier
fun Modifier.selectable(selected: Boolean, enabled: Boolean = true, role: androidx.compose.ui.semantics.Role? = null, onClick: () -> Unit): Modifier = this
fun Modifier.selectableGroup(): Modifier = this
