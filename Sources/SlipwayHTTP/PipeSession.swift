#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// HTTP/1.1 requests with keep-alive over one pair of pipes (a child's stdout and stdin: `ssh HOST slipway server
/// dial-stdio`), one at a time, so many calls share one remote session instead of starting one each. A request that
/// fails or runs past its timeout closes the session (a later one must open another).
public final class PipeSession: Sendable {
    struct Job: Sendable {
        var parts: [HTTPClientRequestPart]
        var what: String
        var timeout: Duration
        var reply: CheckedContinuation<MiniHTTPClient.Response, any Error>
    }

    let jobs: AsyncStream<Job>.Continuation
    let runner: Task<Void, Never>
    final class Flags: Sendable {
        let state = Mutex<(busy: Bool, open: Bool)>((false, true))
    }
    let flags = Flags()
    let description: String

    /// Takes ownership of `input` (read for responses) and `output` (written with requests).
    public init(input: CInt, output: CInt, describedAs description: String, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws {
        self.description = description
        let channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>
        do { channel = try await MiniHTTPClient.pipeChannel(group: group, input: input, output: output, describedAs: description) } catch {
            _ = Glibc.close(input)
            _ = Glibc.close(output)
            throw error
        }
        let (stream, jobs) = AsyncStream<Job>.makeStream()
        self.jobs = jobs
        let flags = self.flags
        runner = Task {
            var pending: Job?
            do {
                try await channel.executeThenClose { inbound, outbound in
                    var responses = inbound.makeAsyncIterator()
                    for await job in stream {
                        pending = job
                        let timer = channel.channel.eventLoop.scheduleTask(in: .nanoseconds(Int64(job.timeout.components.seconds) * 1_000_000_000)) {
                            channel.channel.close(promise: nil)
                        }
                        defer { timer.cancel() }
                        try await outbound.write(contentsOf: job.parts)
                        var response: MiniHTTPClient.Response?
                        while let part = try await responses.next() {
                            switch part {
                            case .head(let h):
                                response = .init(status: Int(h.status.code), reason: h.status.reasonPhrase, headers: h.headers.map { ($0.name, $0.value) }, body: [])
                            case .body(var buffer):
                                response?.body += buffer.readBytes(length: buffer.readableBytes) ?? []
                            case .end:
                                break
                            }
                            if case .end = part { break }
                        }
                        guard let response else { throw MiniHTTPClient.Failure(description: "\(description) \(job.what): the session closed before a response") }
                        pending = nil
                        job.reply.resume(returning: response)
                    }
                }
            } catch {
                pending?.reply.resume(throwing: MiniHTTPClient.Failure(description: "\(description) \(pending?.what ?? ""): \(MiniHTTPClient.describe(error))"))
                pending = nil
            }
            // One request at a time (`acquire`): nothing else is queued behind a failed one.
            flags.state.withLock { $0.open = false }
            jobs.finish()
        }
    }

    /// True when the session is open and idle: it is then the caller's until `release`.
    public func acquire() -> Bool {
        flags.state.withLock { s in
            guard s.open, !s.busy else { return false }
            s.busy = true
            return true
        }
    }

    public func release() { flags.state.withLock { $0.busy = false } }

    public var isOpen: Bool { flags.state.withLock { $0.open } }

    /// One request (the caller holds the session, `acquire`).
    public func request(_ method: String, path: String, headers: [(String, String)] = [], body: [UInt8]? = nil, timeout: Duration) async throws -> MiniHTTPClient.Response {
        var head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method), uri: path)
        head.headers.add(name: "Host", value: "localhost")
        head.headers.add(name: "Connection", value: "keep-alive")
        for (k, v) in headers { head.headers.add(name: k, value: v) }
        head.headers.add(name: "Content-Length", value: String(body?.count ?? 0))
        var parts: [HTTPClientRequestPart] = [.head(head)]
        if let body, !body.isEmpty { parts.append(.body(.byteBuffer(ByteBuffer(bytes: body)))) }
        parts.append(.end(nil))
        guard isOpen else { throw MiniHTTPClient.Failure(description: "\(description): the session is closed") }
        return try await withCheckedThrowingContinuation { reply in
            switch jobs.yield(Job(parts: parts, what: "\(method) \(path)", timeout: timeout, reply: reply)) {
            case .enqueued: break
            case .dropped, .terminated: reply.resume(throwing: MiniHTTPClient.Failure(description: "\(description): the session is closed"))
            @unknown default: reply.resume(throwing: MiniHTTPClient.Failure(description: "\(description): the session is closed"))
            }
        }
    }

    /// Ends the session (its pipes close: the remote end sees its stdin end) and waits for it.
    public func close() async {
        jobs.finish()
        await runner.value
    }
}
