// The SDK's NetworkMonitor on ConnectivityManager: reports whether the system's default network
// (Wi-Fi, cellular, VPN: whichever the system routes through) exists and has internet, at start
// and on every change, so clients reconnect at once when a network comes back (skipping their
// backoff) instead of waiting for a timer.
package org.linnet.app.platform

import android.content.Context
import android.net.ConnectivityManager
import android.net.Network
import android.net.NetworkCapabilities
import org.linnet.sdk.NetworkMonitor
import org.linnet.sdk.NetworkObserver

class AndroidNetworkMonitor(context: Context) : NetworkMonitor {
    private val connectivity: ConnectivityManager =
        context.applicationContext.getSystemService(ConnectivityManager::class.java)
    private val lock = Any()
    private var callback: ConnectivityManager.NetworkCallback? = null
    /** The default network and whether it has internet; null: none. */
    private var current: Network? = null
    private var lastReported: Boolean? = null

    override fun start(observer: NetworkObserver) {
        synchronized(lock) {
            if (callback != null) return
        }
        // The state right now first; the callback reports every change after it.
        val active = connectivity.activeNetwork
        val now = active?.let { connectivity.getNetworkCapabilities(it) }
            ?.hasCapability(NetworkCapabilities.NET_CAPABILITY_INTERNET) == true
        synchronized(lock) { current = if (now) active else null }
        report(observer, now)

        val cb = object : ConnectivityManager.NetworkCallback() {
            // The default network callback: onAvailable when there is a (new) default network,
            // onLost when the default goes without a replacement.
            override fun onAvailable(network: Network) {
                synchronized(lock) { current = network }
                report(observer, true)
            }

            override fun onLost(network: Network) {
                val none = synchronized(lock) {
                    if (current == network) current = null
                    current == null
                }
                if (none) report(observer, false)
            }

            override fun onCapabilitiesChanged(network: Network, networkCapabilities: NetworkCapabilities) {
                val internet = networkCapabilities.hasCapability(NetworkCapabilities.NET_CAPABILITY_INTERNET)
                synchronized(lock) { current = if (internet) network else null }
                report(observer, internet)
            }
        }
        synchronized(lock) { callback = cb }
        connectivity.registerDefaultNetworkCallback(cb)
    }

    override fun stop() {
        val cb = synchronized(lock) {
            val cb = callback
            callback = null
            current = null
            lastReported = null
            cb
        } ?: return
        runCatching { connectivity.unregisterNetworkCallback(cb) }
    }

    /** Tells the SDK of a change (not of the same state twice). */
    private fun report(observer: NetworkObserver, available: Boolean) {
        synchronized(lock) {
            if (lastReported == available) return
            lastReported = available
        }
        observer.networkChanged(available)
    }
}
