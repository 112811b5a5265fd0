@file:Suppress("unused", "UNUSED_PARAMETER")
package androidx.lifecycle.viewmodel
class CreationExtras