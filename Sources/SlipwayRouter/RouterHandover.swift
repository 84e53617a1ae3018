import Foundation
import Logging
import ServiceLifecycle
import SlipwayCore
import SlipwayRuntime
import UnixSignals
#if canImport(Glibc)
import Glibc
#endif

/// Restarting the router without a gap (a new binary, or just a fresh process): the listening sockets
/// are handed to a new `slipway router` process started with the same arguments. This one stops
/// accepting first (connections wait in the kernel's queue meanwhile, none is refused); once the new
/// one serves (it says so on a pipe), this one answers its requests in progress with `Connection: close`,
/// closes idle connections and exits. If the new one does not start, this one accepts again. Triggered by SIGHUP or `POST /v1/handover` on the control socket.
public actor RouterHandover {
    enum Phase { case serving, starting, handedOver }

    static let inheritVariable = "SLIPWAY_ROUTER_INHERIT"
    static let readyVariable = "SLIPWAY_ROUTER_READY_FD"

    let proxy: ProxyServer
    let logger: Logger
    private var phase = Phase.serving
    let handedOver = AsyncStream<Void>.makeStream()

    public init(proxy: ProxyServer, logger: Logger) {
        self.proxy = proxy
        self.logger = logger
    }

    /// Starts the new process with this one's listeners and waits until it serves; returns its pid.
    /// `arguments` (after the executable) default to this process's own.
    public func start(executable: String? = nil, arguments: [String]? = nil) async throws(SlipwayError) -> Int32 {
        guard phase == .serving else { throw .failed("a restart of this router is already under way") }
        phase = .starting
        let program = executable ?? CommandLine.arguments[0]
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0, fcntl(ends[0], F_SETFD, FD_CLOEXEC) == 0, fcntl(ends[1], F_SETFD, FD_CLOEXEC) == 0 else {
            phase = .serving
            throw SlipwayError(.internal, "cannot create the readiness pipe for the new router", cause: String(cString: strerror(errno)))
        }
        // This process stops accepting first, so two processes never accept from one socket at once; until
        // the new one accepts, connections wait in the kernel's queue.
        let sockets = await proxy.pauseAccepting()
        var environment = ProcessInfo.processInfo.environment
        environment[Self.inheritVariable] = sockets.enumerated().map { "\($0.element.address)=\(3 + $0.offset)" }.joined(separator: ";")
        environment[Self.readyVariable] = String(3 + sockets.count)
        let child: ProcessSpawner.Spawned
        do {
            child = try ProcessSpawner.spawn(argv: [program] + (arguments ?? Array(CommandLine.arguments.dropFirst())), directory: FileManager.default.currentDirectoryPath,
                                             environment: environment, stdin: nil, stdout: 1, stderr: 2,
                                             inherit: sockets.map(\.descriptor) + [ends[1]])
        } catch {
            close(ends[0]); close(ends[1])
            await proxy.resumeAccepting()
            phase = .serving
            throw error
        }
        close(ends[1])
        logger.info("handing over to a new router process", metadata: ["router.pid": "\(child.pid)", "router.executable": "\(program)"])
        let ready = await Self.waitReady(ends[0], timeoutMs: 20_000)
        close(ends[0])
        guard ready else {
            ProcessInspector.signal(pid: child.pid, startTime: child.startTime, SIGKILL)
            await proxy.resumeAccepting()
            phase = .serving
            throw .failed("the new router process (pid \(child.pid)) did not start serving; this one keeps serving — see the router log")
        }
        // The new process accepts now: this one closes its listeners and lets go of its copies.
        await proxy.closeAll()
        phase = .handedOver
        handedOver.continuation.yield()
        handedOver.continuation.finish()
        return child.pid
    }

    /// Waits for the new process's byte on the pipe (EOF: it exited first).
    static func waitReady(_ fd: Int32, timeoutMs: Int32) async -> Bool {
        await withCheckedContinuation { c in
            Thread.detachNewThread {
                var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                guard poll(&p, 1, timeoutMs) == 1 else { return c.resume(returning: false) }
                var byte: UInt8 = 0
                c.resume(returning: read(fd, &byte, 1) == 1)
            }
        }
    }

    /// Tells systemd (under `Type=notify`) that this process serves and is the service's main process now (after
    /// a handover, before the old one exits), and in the new process of a handover, tells the old one.
    static func signalReady() {
        SystemdNotify.send("MAINPID=\(getpid())\nREADY=1")
        guard let text = ProcessInfo.processInfo.environment[readyVariable], let fd = Int32(text) else { return }
        var byte: UInt8 = 1
        _ = write(fd, &byte, 1)
        close(fd)
        unsetenv(readyVariable)
        unsetenv(inheritVariable)
    }
}

/// Runs the handover: SIGHUP starts one; once handed over, drains and ends, which shuts the router down.
struct HandoverService: Service {
    let handover: RouterHandover
    let proxy: ProxyServer
    let drainTimeout: Duration
    let logger: Logger

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        let onSignal = Task { [handover, logger] in
            for await _ in signals {
                do { _ = try await handover.start() } catch { logger.error("router restart failed: \(error)") }
            }
        }
        defer { onSignal.cancel() }
        for await _ in handover.handedOver.stream.cancelOnGracefulShutdown() {
            let left = await proxy.drain(timeout: drainTimeout)
            logger.info("drained after the handover; exiting", metadata: ["router.connections_cut": "\(left)"])
            return
        }
    }
}
