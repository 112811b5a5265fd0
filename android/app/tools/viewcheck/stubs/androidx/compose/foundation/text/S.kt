@file:Suppress("unused", "UNUSED_PARAMETER")
package androidx.compose.foundation.text

class KeyboardActionScope
class KeyboardOptions(keyboardType: androidx.compose.ui.text.input.KeyboardType = androidx.compose.ui.text.input.KeyboardType.Text, imeAction: androidx.compose.ui.text.input.ImeAction = androidx.compose.ui.text.input.ImeAction.Default)
class KeyboardActions(onGo: (KeyboardActionScope.() -> Unit)? = null, onNext: (KeyboardActionScope.() -> Unit)? = null)
