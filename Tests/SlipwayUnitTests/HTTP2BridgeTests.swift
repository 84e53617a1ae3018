import NIOCore
import NIOEmbedded
import NIOHPACK
import NIOHTTP2
@testable import SlipwayRouter
import Testing

/// The HTTP/2 side's translation, without sockets: responses read from HTTP/1.1 bytes in any pieces into
/// header blocks and frames, and requests written from header blocks as HTTP/1.1 heads.
@Suite struct HTTP2BridgeTests {
    static func feed(_ reader: inout HTTP1ResponseReader, _ pieces: [String]) -> [HTTP1ResponseReader.Part] {
        pieces.flatMap { piece -> [HTTP1ResponseReader.Part] in
            var b = ByteBuffer(string: piece)
            return reader.read(&b)
        }
    }

    static func summary(_ parts: [HTTP1ResponseReader.Part]) -> String {
        parts.map { part -> String in
            switch part {
            case .head(let h): "head " + h.map { "\($0.name)=\($0.value)" }.joined(separator: ",")
            case .body(let b): "body " + String(buffer: b)
            case .end: "end"
            }
        }.joined(separator: " | ")
    }

    @Test func aLengthDelimitedResponseInPiecesWithoutHopByHopHeaders() {
        var r = HTTP1ResponseReader()
        let parts = Self.feed(&r, ["HTTP/1.1 200 OK\r\nContent-Length: 5\r\nconnection: keep-alive\r\nX-A:", " 1\r\n\r\nhe", "llo"])
        #expect(Self.summary(parts) == "head :status=200,content-length=5,x-a=1 | body he | body llo | end", "names in lowercase, :status first")
    }

    @Test func aChunkedResponseSplitAnywhereLosesItsFraming() {
        let whole = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nx-trailer: t\r\n\r\n"
        for cut in stride(from: 1, to: whole.utf8.count, by: 7) {
            var r = HTTP1ResponseReader()
            let bytes = Array(whole.utf8)
            let parts = Self.feed(&r, [String(decoding: bytes[..<cut], as: UTF8.self), String(decoding: bytes[cut...], as: UTF8.self)])
            let body = parts.compactMap { if case .body(let b) = $0 { String(buffer: b) } else { nil } }.joined()
            #expect(body == "hello world" && Self.summary(parts).hasPrefix("head :status=200") && Self.summary(parts).hasSuffix("end"), "cut at \(cut): \(Self.summary(parts))")
        }
    }

    @Test func interimAnswersAreLeftOutAndBodilessAnswersEndAtTheHead() {
        var r = HTTP1ResponseReader()
        #expect(Self.summary(Self.feed(&r, ["HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"])) == "head :status=204 | end")
        var head = HTTP1ResponseReader()
        head.isHEAD = true
        #expect(Self.summary(Self.feed(&head, ["HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n"])) == "head :status=200,content-length=10 | end")
        var open = HTTP1ResponseReader()
        #expect(Self.summary(Self.feed(&open, ["HTTP/1.1 503 Service Unavailable\r\n\r\nabc"])) == "head :status=503 | body abc")
        #expect(open.closed().map { Self.summary([$0]) } == "end", "a body up to the close ends with it")
    }

    static func block(_ method: String, _ path: String, _ extra: [(String, String)] = []) -> HPACKHeaders {
        HPACKHeaders([(":method", method), (":scheme", "https"), (":authority", "shop.example.com"), (":path", path)] + extra)
    }

    @Test func aRequestHeadIsWrittenAsHTTP1WithItsBodyFraming() {
        let head = Self.block("POST", "/orders?x=1", [("te", "trailers"), ("x-a", "1")])
        let text = { (framing: HTTP2Bridge.Framing) in String(buffer: HTTP2Bridge.requestHead(head, framing: framing, allocator: ByteBufferAllocator())) }
        #expect(text(.chunked) == "POST /orders?x=1 HTTP/1.1\r\nhost: shop.example.com\r\nx-a: 1\r\ntransfer-encoding: chunked\r\n\r\n")
        #expect(text(.length(12)) == "POST /orders?x=1 HTTP/1.1\r\nhost: shop.example.com\r\nx-a: 1\r\ncontent-length: 12\r\n\r\n")
        #expect(text(.none) == "POST /orders?x=1 HTTP/1.1\r\nhost: shop.example.com\r\nx-a: 1\r\ncontent-length: 0\r\n\r\n", "no body: length 0")
        let get = String(buffer: HTTP2Bridge.requestHead(Self.block("GET", "/"), framing: .none, allocator: ByteBufferAllocator()))
        #expect(get == "GET / HTTP/1.1\r\nhost: shop.example.com\r\n\r\n", "a GET gets no length")
    }

    @Test func cookieFieldsAreJoinedIntoOneHeaderForTheInstance() {
        let head = Self.block("GET", "/", [("cookie", "a=1"), ("accept", "*/*"), ("cookie", "slipway_pool=canary"), ("cookie", "b=2")])
        let text = String(buffer: HTTP2Bridge.requestHead(head, framing: .none, allocator: ByteBufferAllocator()))
        #expect(text == "GET / HTTP/1.1\r\nhost: shop.example.com\r\ncookie: a=1; slipway_pool=canary; b=2\r\naccept: */*\r\n\r\n")
    }

    /// Frames through the bridge in an embedded channel: what the connection behind it reads, and the frames a
    /// response written as HTTP/1.1 bytes becomes.
    @Test func aStreamBecomesHTTP1BytesAndItsAnswerFramesWithTheEndOnTheLastFrame() throws {
        let channel = EmbeddedChannel(handler: HTTP2Bridge())
        // A body that comes whole in its first frame goes with its length.
        try channel.writeInbound(HTTP2Frame.FramePayload.headers(.init(headers: Self.block("PUT", "/items/1"))))
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil, "the head waits for the body's framing")
        try channel.writeInbound(HTTP2Frame.FramePayload.data(.init(data: .byteBuffer(ByteBuffer(string: "hello")), endStream: true)))
        var read = ""
        while let b = try channel.readInbound(as: ByteBuffer.self) { read += String(buffer: b) }
        #expect(read == "PUT /items/1 HTTP/1.1\r\nhost: shop.example.com\r\ncontent-length: 5\r\n\r\nhello")

        try channel.writeOutbound(ByteBuffer(string: "HTTP/1.1 201 Created\r\ncontent-length: 2\r\n\r\nok"))
        var frames: [String] = []
        while let f = try channel.readOutbound(as: HTTP2Frame.FramePayload.self) {
            switch f {
            case .headers(let h): frames.append("headers \(h.headers.first(name: ":status") ?? "") end=\(h.endStream)")
            case .data(let d): if case .byteBuffer(let b) = d.data { frames.append("data \(String(buffer: b)) end=\(d.endStream)") }
            default: frames.append("other")
            }
        }
        #expect(frames == ["headers 201 end=false", "data ok end=true"], "two frames, the end on the data")
        _ = try channel.finish()
    }

    @Test func aBodyInSeveralFramesGoesChunked() throws {
        let channel = EmbeddedChannel(handler: HTTP2Bridge())
        try channel.writeInbound(HTTP2Frame.FramePayload.headers(.init(headers: Self.block("POST", "/up"))))
        try channel.writeInbound(HTTP2Frame.FramePayload.data(.init(data: .byteBuffer(ByteBuffer(string: "abc")))))
        try channel.writeInbound(HTTP2Frame.FramePayload.data(.init(data: .byteBuffer(ByteBuffer(string: "de")), endStream: true)))
        var read = ""
        while let b = try channel.readInbound(as: ByteBuffer.self) { read += String(buffer: b) }
        #expect(read == "POST /up HTTP/1.1\r\nhost: shop.example.com\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
        _ = try channel.finish()
    }
}
