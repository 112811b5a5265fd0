import Foundation

/// The listening tasks of one model. Cancelling a task ends its `for await` loop, which ends the
/// AsyncStream, which cancels the SDK subscription (its TaskHandle). Cancelled in the model's
/// `close()`, and at the latest when the model is freed (this object's deinit), so a screen that
/// forgets `close()` does not leak a live subscription.
final class ModelTasks: @unchecked Sendable {
    private let lock = NSLock()
    private var tasks: [Task<Void, Never>] = []

    func add(_ task: Task<Void, Never>) {
        lock.withLock { tasks.append(task) }
    }

    func cancelAll() {
        let running = lock.withLock {
            let all = tasks
            tasks = []
            return all
        }
        for task in running { task.cancel() }
    }

    deinit { cancelAll() }
}
