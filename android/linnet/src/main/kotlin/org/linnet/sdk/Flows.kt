// Linnet: Flow adapters over the generated listener + handle APIs
// (callbackFlow { val h = subscribe(listener); awaitClose { h.cancel() } }).
//
// Pure Kotlin/JVM (no android.* imports): compiled with the generated bindings and tested on the
// JVM by `make test-bindings` (bindings/scripts/kotlin.sh). The adapters follow (they depend on
// the SDK's final API).
package org.linnet.sdk
