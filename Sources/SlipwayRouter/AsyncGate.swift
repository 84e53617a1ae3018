/// A lock for async code inside one actor: `acquire` suspends until the holder calls `release`; waiters
/// go in arrival order. Not reentrant. Used where actor reentrancy would interleave two multi-step updates.
final class AsyncGate: @unchecked Sendable {  // only touched from its owning actor's executor
    private var held = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func acquire() async {
        if !held {
            held = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
        if waiters.isEmpty { held = false } else { waiters.removeFirst().resume() }
    }
}
