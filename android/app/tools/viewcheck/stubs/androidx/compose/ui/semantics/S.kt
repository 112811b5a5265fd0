@file:Suppress("unused", "UNUSED_PARAMETER")
package androidx.compose.ui.semantics

class SemanticsPropertyReceiver
enum class LiveRegionMode { Polite }
var SemanticsPropertyReceiver.liveRegion: LiveRegionMode get() = TODO(); set(v) {}
fun androidx.compose.ui.Modifier.semantics(p: SemanticsPropertyReceiver.() -> Unit): androidx.compose.ui.Modifier = this
@JvmInline value class Role(val v: Int) { companion object { val Switch = Role(1); val RadioButton = Role(2) } }
