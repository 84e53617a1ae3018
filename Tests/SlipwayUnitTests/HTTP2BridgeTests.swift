import NIOCore
import NIOHTTP1
@testable import SlipwayRouter
import Testing

/// The HTTP/2 side's translation, without sockets: responses read from HTTP/1.1 bytes in any pieces, and
/// requests written as HTTP/1.1 heads.
@Suite struct HTTP2BridgeTests {
    static func feed(_ reader: inout HTTP1ResponseReader, _ pieces: [String]) -> [HTTPServerResponsePart] {
        pieces.flatMap { piece -> [HTTPServerResponsePart] in
            var b = ByteBuffer(string: piece)
            return reader.read(&b)
        }
    }

    static func summary(_ parts: [HTTPServerResponsePart]) -> String {
        parts.map { part -> String in
            switch part {
            case .head(let h): "head \(h.status.code) " + h.headers.map { "\($0.name)=\($0.value)" }.joined(separator: ",")
            case .body(.byteBuffer(let b)): "body " + String(buffer: b)
            case .body: "body ?"
            case .end: "end"
            }
        }.joined(separator: " | ")
    }

    @Test func aLengthDelimitedResponseInPiecesWithoutHopByHopHeaders() {
        var r = HTTP1ResponseReader()
        let parts = Self.feed(&r, ["HTTP/1.1 200 OK\r\ncontent-length: 5\r\nconnection: keep-alive\r\nx-a:", " 1\r\n\r\nhe", "llo"])
        #expect(Self.summary(parts) == "head 200 content-length=5,x-a=1 | body he | body llo | end")
    }

    @Test func aChunkedResponseSplitAnywhereLosesItsFraming() {
        let whole = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nx-trailer: t\r\n\r\n"
        for cut in stride(from: 1, to: whole.utf8.count, by: 7) {
            var r = HTTP1ResponseReader()
            let bytes = Array(whole.utf8)
            let parts = Self.feed(&r, [String(decoding: bytes[..<cut], as: UTF8.self), String(decoding: bytes[cut...], as: UTF8.self)])
            let body = parts.compactMap { if case .body(.byteBuffer(let b)) = $0 { String(buffer: b) } else { nil } }.joined()
            #expect(body == "hello world" && Self.summary(parts).hasPrefix("head 200 ") && Self.summary(parts).hasSuffix("end"), "cut at \(cut): \(Self.summary(parts))")
        }
    }

    @Test func interimAnswersAreLeftOutAndBodilessAnswersEndAtTheHead() {
        var r = HTTP1ResponseReader()
        #expect(Self.summary(Self.feed(&r, ["HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"])) == "head 204  | end")
        var head = HTTP1ResponseReader()
        head.isHEAD = true
        #expect(Self.summary(Self.feed(&head, ["HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n"])) == "head 200 content-length=10 | end")
        var open = HTTP1ResponseReader()
        #expect(Self.summary(Self.feed(&open, ["HTTP/1.1 200 OK\r\n\r\nabc"])) == "head 200  | body abc")
        #expect(open.closed().map { Self.summary([$0]) } == "end", "a body up to the close ends with it")
    }

    @Test func aRequestHeadIsWrittenAsHTTP1WithItsBodyFraming() {
        var head = HTTPRequestHead(version: .http2, method: .POST, uri: "/orders?x=1")
        head.headers.add(name: "host", value: "shop.example.com")
        head.headers.add(name: "te", value: "trailers")
        let chunked = String(buffer: HTTP2Bridge.requestHead(head, chunked: true, allocator: ByteBufferAllocator()))
        #expect(chunked == "POST /orders?x=1 HTTP/1.1\r\nhost: shop.example.com\r\ntransfer-encoding: chunked\r\n\r\n")
        let plain = String(buffer: HTTP2Bridge.requestHead(head, chunked: false, allocator: ByteBufferAllocator()))
        #expect(plain == "POST /orders?x=1 HTTP/1.1\r\nhost: shop.example.com\r\n\r\n")
    }
}
