@file:Suppress("unused", "UNUSED_PARAMETER")
package com.google.firebase
class FirebaseApp { companion object { fun getApps(c: android.content.Context): List<FirebaseApp> = emptyList() } }