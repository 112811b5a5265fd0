@file:Suppress("unused", "UNUSED_PARAMETER")
package android.content.pm
class ServiceInfo { companion object { const val FOREGROUND_SERVICE_TYPE_PHONE_CALL = 4; const val FOREGROUND_SERVICE_TYPE_MICROPHONE = 128 } }
class PackageManager { companion object { const val PERMISSION_GRANTED = 0 } }