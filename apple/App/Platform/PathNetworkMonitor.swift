// The SDK's NetworkMonitor over NWPathMonitor: every change of the path is reported, so that the
// clients reconnect at once when the network returns (or moves from Wi-Fi to cellular).
import Foundation
import Linnet
import Network

final class PathNetworkMonitor: NetworkMonitor, @unchecked Sendable {
    private let lock = NSLock()
    private var monitor: NWPathMonitor?
    private let queue = DispatchQueue(label: "org.linnet.network-monitor")

    func start(observer: NetworkObserver) {
        let monitor = NWPathMonitor()
        monitor.pathUpdateHandler = { path in
            observer.networkChanged(available: path.status == .satisfied)
        }
        let previous = lock.withLock {
            let previous = self.monitor
            self.monitor = monitor
            return previous
        }
        previous?.cancel()
        monitor.start(queue: queue)
    }

    func stop() {
        let monitor = lock.withLock {
            let monitor = self.monitor
            self.monitor = nil
            return monitor
        }
        monitor?.cancel()
    }
}
