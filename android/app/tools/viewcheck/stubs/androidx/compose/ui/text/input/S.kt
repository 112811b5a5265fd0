@file:Suppress("unused", "UNUSED_PARAMETER")
package androidx.compose.ui.text.input

@JvmInline value class ImeAction(val v: Int) { companion object { val Next = ImeAction(1); val Go = ImeAction(2); val Default = ImeAction(0) } }
@JvmInline value class KeyboardType(val v: Int) { companion object { val Email = KeyboardType(1); val Password = KeyboardType(2); val Uri = KeyboardType(3); val Number = KeyboardType(4); val Text = KeyboardType(0) } }
interface VisualTransformation { companion object { val None: VisualTransformation = TODO() } }
class PasswordVisualTransformation : VisualTransformation
