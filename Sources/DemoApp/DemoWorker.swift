import Foundation
import Synchronization

extension DemoApp {
    /// `demo-app --worker`: a queue worker for the demo and the tests. It takes one job at a time (0.2 s each),
    /// logs `start`/`done` lines to `$SLIPWAY_SHARED/jobs.log`, and on SIGTERM finishes the job in hand, logs
    /// `exit` and ends: what a process type's `stop_timeout` is for.
    public static func work(version: String) async {
        let stopping = StopFlag()
        signal(SIGTERM, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGTERM, queue: .global())
        source.setEventHandler { stopping.set() }
        source.resume()
        let env = ProcessInfo.processInfo.environment
        let name = env["SLIPWAY_INSTANCE"] ?? "worker"
        let path = (env["SLIPWAY_SHARED"] ?? ".") + "/jobs.log"
        func log(_ line: String) {
            do {
                if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
                let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
                defer { try? handle.close() }
                try handle.seekToEnd()
                try handle.write(contentsOf: Data((line + "\n").utf8))
            } catch {
                FileHandle.standardError.write(Data("demo-app: cannot log to \(path): \(error)\n".utf8))
            }
        }
        print("demo-app \(version) worker \(name) taking jobs")
        fflush(nil)
        var n = 0
        while !stopping.isSet {
            n += 1
            log("start \(version) \(name) \(n)")
            try? await Task.sleep(for: .milliseconds(200))
            log("done \(version) \(name) \(n)")
        }
        log("exit \(version) \(name)")
        source.cancel()
    }
}

final class StopFlag: Sendable {
    private let flag = Mutex(false)
    func set() { flag.withLock { $0 = true } }
    var isSet: Bool { flag.withLock { $0 } }
}
