// The SDK's NetworkMonitor on ConnectivityManager: reports whether any validated-or-not internet
// route exists, at start and on every change, so clients reconnect at once when the network
// comes back (skipping their backoff) instead of waiting for a timer.
package org.linnet.app.platform

import android.content.Context
import android.net.ConnectivityManager
import android.net.Network
import android.net.NetworkCapabilities
import org.linnet.sdk.NetworkMonitor
import org.linnet.sdk.NetworkObserver

class AndroidNetworkMonitor(context: Context) : NetworkMonitor {
    private val connectivity = context.applicationContext.getSystemService(ConnectivityManager::class.java)
    private val lock = Any()
    private var callback: ConnectivityManager.NetworkCallback? = null
    /** Networks with internet capability seen as available (the default one may change). */
    private val networks = mutableSetOf<Network>()
    private var lastReported: Boolean? = null

    override fun start(observer: NetworkObserver) {
        synchronized(lock) {
            if (callback != null) return
            val cb = object : ConnectivityManager.NetworkCallback() {
                override fun onAvailable(network: Network) = changed(observer) { networks.add(network) }
                override fun onLost(network: Network) = changed(observer) { networks.remove(network) }
                override fun onCapabilitiesChanged(network: Network, caps: NetworkCapabilities) =
                    changed(observer) {
                        if (caps.hasCapability(NetworkCapabilities.NET_CAPABILITY_INTERNET)) networks.add(network)
                        else networks.remove(network)
                    }
            }
            callback = cb
            // The default network follows the system's choice (Wi-Fi, cellular, VPN): onAvailable
            // is called at once when there is one, onLost when it goes without replacement.
            connectivity.registerDefaultNetworkCallback(cb)
        }
        // The state right now, in case no callback comes (no network at all).
        val now = connectivity.activeNetwork?.let { connectivity.getNetworkCapabilities(it) }
            ?.hasCapability(NetworkCapabilities.NET_CAPABILITY_INTERNET) == true
        report(observer, now)
    }

    override fun stop() {
        val cb = synchronized(lock) {
            val cb = callback
            callback = null
            networks.clear()
            lastReported = null
            cb
        } ?: return
        runCatching { connectivity.unregisterNetworkCallback(cb) }
    }

    private fun changed(observer: NetworkObserver, update: () -> Unit) {
        val available = synchronized(lock) {
            update()
            networks.isNotEmpty()
        }
        report(observer, available)
    }

    private fun report(observer: NetworkObserver, available: Boolean) {
        synchronized(lock) {
            if (lastReported == available) return
            lastReported = available
        }
        observer.networkChanged(available)
    }
}
