import Foundation
import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOPosix
import NIOSSL
import Synchronization

/// One HTTP/2 connection over TLS (NIO's client, as a browser keeps one): requests as streams of it, and
/// what the server did to the connection — the `GOAWAY` frames it sent and whether it closed.
final class HTTP2TestClient: Sendable {
    /// Frames on the connection's stream 0, and its close.
    final class Recorder: ChannelInboundHandler, Sendable {
        typealias InboundIn = HTTP2Frame
        let goaways = Mutex<[HTTP2StreamID]>([])
        let closed = Mutex(false)

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            if case .goAway(let last, _, _) = unwrapInboundIn(data).payload { goaways.withLock { $0.append(last) } }
            context.fireChannelRead(data)
        }

        func channelInactive(context: ChannelHandlerContext) {
            closed.withLock { $0 = true }
            context.fireChannelInactive()
        }
    }

    /// A stream's response: status and body; fails when the stream is reset or the connection goes.
    final class Response: ChannelInboundHandler {
        typealias InboundIn = HTTPClientResponsePart
        let promise: EventLoopPromise<(Int, String)>
        var status = 0
        var body = ""

        init(_ promise: EventLoopPromise<(Int, String)>) { self.promise = promise }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let h): status = Int(h.status.code)
            case .body(let b): body += String(buffer: b)
            case .end: promise.succeed((status, body))
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            promise.fail(ChannelError.eof)
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            promise.fail(error)
            context.close(promise: nil)
        }
    }

    let channel: any Channel
    let multiplexer: NIOHTTP2Handler.StreamMultiplexer
    let recorder: Recorder
    let host: String

    init(port: Int, host: String, caFile: String) async throws {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .file(caFile)
        tls.applicationProtocols = ["h2"]
        let context = try NIOSSLContext(configuration: tls)
        let recorder = Recorder()
        let (channel, multiplexer) = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: host))
                    let mux = try channel.pipeline.syncOperations.configureHTTP2Pipeline(
                        mode: .client, connectionConfiguration: .init(), streamConfiguration: .init()) { $0.eventLoop.makeSucceededVoidFuture() }
                    try channel.pipeline.syncOperations.addHandler(recorder)
                    return (channel, mux)
                }
            }
        self.channel = channel
        self.multiplexer = multiplexer
        self.recorder = recorder
        self.host = host
    }

    /// GET `path` on a new stream (with `headers`, each field sent as it is): its status and body.
    func get(_ path: String, headers: [(String, String)] = []) async throws -> (status: Int, body: String) {
        let promise = channel.eventLoop.makePromise(of: (Int, String).self)
        let host = self.host
        let stream = try await multiplexer.createStreamChannel { stream in
            stream.eventLoop.makeCompletedFuture {
                try stream.pipeline.syncOperations.addHandlers(HTTP2FramePayloadToHTTP1ClientCodec(httpProtocol: .https), Response(promise))
            }
        }.get()
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path)
        head.headers.add(name: "host", value: host)
        for (name, value) in headers { head.headers.add(name: name, value: value) }
        stream.write(HTTPClientRequestPart.head(head), promise: nil)
        try await stream.writeAndFlush(HTTPClientRequestPart.end(nil)).get()
        return try await promise.futureResult.get()
    }

    var goaways: [HTTP2StreamID] { recorder.goaways.withLock { $0 } }
    var isClosed: Bool { recorder.closed.withLock { $0 } }

    func close() async {
        try? await channel.close()
    }
}
