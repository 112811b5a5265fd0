@file:Suppress("unused", "UNUSED_PARAMETER")
package android.net

class Uri : android.os.Parcelable { val lastPathSegment: String? = null
  companion object { fun encode(s: String): String = s; fun decode(s: String): String = s; fun fromParts(a: String, b: String, c: String?): Uri = Uri() } }
class Network
class NetworkCapabilities { fun hasCapability(c: Int): Boolean = true; companion object { const val NET_CAPABILITY_INTERNET = 12 } }
class ConnectivityManager {
    val activeNetwork: Network? = null
    fun getNetworkCapabilities(n: Network?): NetworkCapabilities? = null
    fun registerDefaultNetworkCallback(cb: NetworkCallback) {}
    fun unregisterNetworkCallback(cb: NetworkCallback) {}
    open class NetworkCallback { open fun onAvailable(network: Network) {}; open fun onLost(network: Network) {}; open fun onCapabilitiesChanged(network: Network, networkCapabilities: NetworkCapabilities) {} }
}
