import NIOCore
import NIOHTTP1
import SlipwayCore
@testable import SlipwayRouter
import Testing

/// The router's protocol state for one client connection, driven by events without a socket: what it
/// asks the connection to write, to whom, and when the connection is kept or closed.
@Suite struct ExchangeMachineTests {
    static func bytes(_ s: String) -> ByteBuffer { ByteBuffer(string: s) }
    static func text(_ b: ByteBuffer?) -> String { b.map { String(buffer: $0) } ?? "" }

    /// A machine that has read `request` from the client and routed it to an attached upstream; the head
    /// the upstream got.
    static func forwarding(_ request: String) -> (ExchangeMachine, String) {
        var m = ExchangeMachine(clientIP: Array("10.0.0.9".utf8))
        #expect(m.clientRead(bytes(request)) == nil)
        guard case .route = m.nextClientAction(listener: nil) else {
            Issue.record("no route for \(request)")
            return (m, "")
        }
        let sent = m.attach()
        return (m, text(sent.head) + text(sent.body))
    }

    static func respond(_ m: inout ExchangeMachine, _ bytes: String) -> ExchangeMachine.ResponseAction {
        m.responseRead(Self.bytes(bytes), draining: false, extra: nil) { false }
    }

    @Test func pipelinedRequestsWaitForTheExchangeBeforeThemAndKeepTheirOrder() {
        var (m, sent) = Self.forwarding("GET /a HTTP/1.1\r\nHost: shop\r\n\r\nGET /b HTTP/1.1\r\nHost: shop\r\n\r\n")
        #expect(sent.hasPrefix("GET /a HTTP/1.1\r\n") && sent.contains("x-forwarded-for: 10.0.0.9") && !sent.contains("GET /b"), "\(sent)")
        // The second request is not read while the first is in flight.
        #expect(m.nextClientAction(listener: nil) == .pipelined(overLimit: false))
        guard case .send(let out, nil, ended: true, leftover: false) = Self.respond(&m, "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok") else {
            Issue.record("the response was not sent whole"); return
        }
        #expect(Self.text(out) == "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
        #expect(m.upstreamReusable(leftover: false))
        let kept = m.finishExchange()
        #expect(kept && m.phase == .idle)
        #expect(m.nextClientAction(listener: nil) == .route(sticky: nil))
        let second = m.attach()
        #expect(Self.text(second.head).hasPrefix("GET /b HTTP/1.1\r\n") && second.complete)
        #expect(m.nextClientAction(listener: nil) == .wait)
    }

    @Test func aBodyThatArrivesBeforeTheUpstreamIsKeptAndSentWithTheHead() {
        var m = ExchangeMachine(clientIP: [])
        _ = m.clientRead(Self.bytes("POST /orders HTTP/1.1\r\ncontent-length: 6\r\n\r\nab"))
        #expect(m.nextClientAction(listener: nil) == .route(sticky: nil))
        m.connecting()
        #expect(m.nextClientAction(listener: nil) == .buffered(overLimit: false))
        _ = m.clientRead(Self.bytes("cdef"))
        #expect(m.nextClientAction(listener: nil) == .buffered(overLimit: false))
        let sent = m.attach()
        #expect(Self.text(sent.body) == "abcdef" && sent.complete)
    }

    @Test func aRequestBodyCutShortClosesBothConnectionsAfterTheAnswer() {
        var (m, sent) = Self.forwarding("POST /upload HTTP/1.1\r\ncontent-length: 10\r\n\r\n1234")
        #expect(sent.hasPrefix("POST /upload HTTP/1.1\r\ncontent-length: 10\r\n") && sent.hasSuffix("\r\n\r\n"))
        #expect(m.nextClientAction(listener: nil) == .forward(Self.bytes("1234"), complete: false))
        // The app answers before the body is complete (a 413, say): the rest of the body would be taken for
        // the next request on either connection, so neither is kept.
        guard case .send(_, nil, ended: true, leftover: false) = Self.respond(&m, "HTTP/1.1 413 Too Large\r\ncontent-length: 0\r\n\r\n") else {
            Issue.record("the answer was not sent"); return
        }
        #expect(!m.upstreamReusable(leftover: false))
        let kept = m.finishExchange()
        #expect(!kept && m.phase == .closed)
        // Nor is a request whose body the client stopped sending replayed when its upstream goes.
        var (m2, _) = Self.forwarding("POST /upload HTTP/1.1\r\ncontent-length: 10\r\n\r\n1234")
        #expect(m2.upstreamClosed() == .badGateway("the instance closed the connection before answering"))
        #expect(m2.answer(.badGateway, body: Self.bytes("x"), contentType: "text/plain", retryAfter: nil, draining: false)
            .map(Self.text)?.contains("connection: close") == true)
    }

    @Test func aMalformedChunkedBodyIsABadRequest() {
        var (m, _) = Self.forwarding("POST /x HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n")
        _ = m.clientRead(Self.bytes("zz\r\n"))
        #expect(m.nextClientAction(listener: nil) == .badRequest("the chunked request body is malformed"))
        #expect(!m.request.keepAlive)
    }

    @Test func anUpgradeBecomesATunnelCarryingBytesBothWays() {
        var (m, sent) = Self.forwarding("GET /ws HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
        #expect(sent.lowercased().contains("upgrade: websocket") && sent.lowercased().contains("connection: upgrade"), "\(sent)")
        _ = m.clientRead(Self.bytes("early"))
        #expect(m.nextClientAction(listener: nil) == .pipelined(overLimit: false))
        guard case .upgrade(let head, let rest, let early) = Self.respond(&m, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nframe1") else {
            Issue.record("no upgrade"); return
        }
        #expect(Self.text(head).hasPrefix("HTTP/1.1 101") && Self.text(head).contains("connection: upgrade"))
        #expect(Self.text(rest) == "frame1" && Self.text(early) == "early")
        #expect(m.phase == .tunnel)
        #expect(m.clientRead(Self.bytes("frame2")).map(Self.text) == "frame2")
        #expect(m.upstreamClosed() == .closeClient)
    }

    @Test func aSwitchToARequestThatDidNotAskIsABadGateway() {
        var (m, _) = Self.forwarding("GET / HTTP/1.1\r\n\r\n")
        #expect(Self.respond(&m, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n")
            == .badGateway("the instance switched protocols on a request that did not ask to"))
        #expect(m.phase == .forwarding && !m.upstreamReusable(leftover: false))
    }

    @Test func anUpstreamThatClosesMidResponseAbortsTheClient() {
        var (m, _) = Self.forwarding("GET /big HTTP/1.1\r\n\r\n")
        guard case .send(let out, nil, ended: false, leftover: false) = Self.respond(&m, "HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n1234") else {
            Issue.record("the head was not sent"); return
        }
        #expect(Self.text(out).hasSuffix("1234"))
        #expect(m.upstreamClosed() == .abort)
        // The router cannot answer any more: the client is told by the connection closing.
        #expect(m.answer(.badGateway, body: Self.bytes("x"), contentType: "text/plain", retryAfter: nil, draining: false) == nil)
    }

    @Test func aBodyFramedByTheCloseEndsWithIt() {
        var (m, _) = Self.forwarding("GET /stream HTTP/1.1\r\n\r\n")
        guard case .send(let out, nil, ended: false, _) = Self.respond(&m, "HTTP/1.1 200 OK\r\n\r\nabc") else {
            Issue.record("the head was not sent"); return
        }
        // The client is told the connection closes: only the close ends this body.
        #expect(Self.text(out).contains("connection: close") && Self.text(out).hasSuffix("abc"))
        #expect(m.upstreamClosed() == .ended)
        let kept = m.finishExchange()
        #expect(!kept)
    }

    @Test func aBodylessRequestIsReplayedTwiceWhenItsUpstreamClosesBeforeAnswering() {
        var (m, _) = Self.forwarding("GET / HTTP/1.1\r\n\r\n")
        #expect(m.upstreamClosed() == .replay)
        #expect(Self.text(m.attach().head).hasPrefix("GET / HTTP/1.1"))
        #expect(m.upstreamClosed() == .replay)
        _ = m.attach()
        #expect(m.upstreamClosed() == .badGateway("the instance closed the connection before answering"))
    }

    @Test func interimAnswersGoOnBeforeTheFinalOne() {
        var (m, _) = Self.forwarding("POST / HTTP/1.1\r\ncontent-length: 0\r\nexpect: 100-continue\r\n\r\n")
        #expect(Self.respond(&m, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n") == .interim(Self.bytes("HTTP/1.1 100 Continue\r\n\r\n")))
        guard case .send(let out, nil, ended: true, leftover: false) = Self.respond(&m, "") else {
            Issue.record("the final answer was not sent"); return
        }
        #expect(Self.text(out).hasPrefix("HTTP/1.1 204"))
    }

    @Test func aMalformedRequestAfterAnExchangeStillGetsItsBadRequest() {
        var (m, _) = Self.forwarding("GET / HTTP/1.1\r\n\r\n")
        _ = Self.respond(&m, "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
        let kept = m.finishExchange()
        #expect(kept)
        _ = m.clientRead(Self.bytes("NOT HTTP\r\n\r\n"))
        guard case .badRequest = m.nextClientAction(listener: nil) else { Issue.record("not a bad request"); return }
        let answer = m.answer(.badRequest, body: Self.bytes("bad"), contentType: "text/plain", retryAfter: nil, draining: false).map(Self.text) ?? ""
        #expect(answer.hasPrefix("HTTP/1.1 400 Bad Request\r\n") && answer.contains("connection: close"), "\(answer)")
    }

    @Test func aResponseHeadInPiecesIsSentOnceComplete() {
        var (m, _) = Self.forwarding("HEAD / HTTP/1.1\r\n\r\n")
        #expect(Self.respond(&m, "HTTP/1.1 200 OK\r\ncontent-") == .wait)
        // A HEAD's answer has no body, whatever its content-length says.
        guard case .send(let out, nil, ended: true, leftover: false) = Self.respond(&m, "length: 5\r\n\r\n") else {
            Issue.record("not sent"); return
        }
        #expect(Self.text(out) == "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n")
    }

    @Test func whileDrainingTheClientIsToldToClose() {
        var (m, _) = Self.forwarding("GET / HTTP/1.1\r\n\r\n")
        let action = m.responseRead(Self.bytes("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"), draining: true, extra: nil) { false }
        guard case .send(let out, nil, ended: true, _) = action else { Issue.record("not sent"); return }
        #expect(Self.text(out).contains("connection: close"))
        let kept = m.finishExchange()
        #expect(!kept)
    }
}

extension ExchangeMachine {
    /// As a connection to an address that one listener has to itself (or that has no table yet) asks.
    mutating func nextClientAction(listener: RouteSnapshot.CompiledListener?) -> ClientAction {
        nextClientAction { _, _ in listener.map { ($0, nil) } }
    }
}

/// A request on an address several environments share: its host and target pick the listener, and a
/// route's path prefix is taken off on the way to the instance.
@Suite struct SharedAddressExchangeTests {
    static let api = RouteSnapshot.CompiledListener(ListenerTable(name: "api", listen: ListenAddress(host: "127.0.0.1", port: 80)),
                                                    registry: StatsRegistry())

    static func sent(_ request: String, strip: String?) -> (head: String, host: String?, target: String) {
        var m = ExchangeMachine(clientIP: Array("10.0.0.9".utf8))
        _ = m.clientRead(ByteBuffer(string: request))
        var seen: (String?, String) = (nil, "")
        guard case .route = m.nextClientAction(select: { host, target in
            seen = (host(), target())
            return (Self.api, strip)
        }) else { return ("", nil, "") }
        return (ExchangeMachineTests.text(m.attach().head), seen.0, seen.1)
    }

    @Test func theSelectionSeesTheHostAndTargetAndThePrefixIsTakenOff() {
        let r = Self.sent("GET /api/orders?page=2 HTTP/1.1\r\nHost: Shop.Example.com:8080\r\n\r\n", strip: "/api")
        #expect(r.host == "Shop.Example.com:8080")
        #expect(r.target == "/api/orders?page=2")
        #expect(r.head.hasPrefix("GET /orders?page=2 HTTP/1.1\r\n"), "\(r.head)")
        #expect(r.head.contains("Host: Shop.Example.com:8080\r\n"), "the Host header goes on as the client sent it")
    }

    @Test func aTargetThatIsThePrefixItselfBecomesTheRoot() {
        #expect(Self.sent("GET /api HTTP/1.1\r\nHost: x\r\n\r\n", strip: "/api").head.hasPrefix("GET / HTTP/1.1\r\n"))
        #expect(Self.sent("HEAD /api?x=1 HTTP/1.1\r\nHost: x\r\n\r\n", strip: "/api").head.hasPrefix("HEAD /?x=1 HTTP/1.1\r\n"))
        #expect(Self.sent("GET /api/ HTTP/1.1\r\nHost: x\r\n\r\n", strip: "/api").head.hasPrefix("GET / HTTP/1.1\r\n"))
        #expect(Self.sent("GET /api/a HTTP/1.1\r\nHost: x\r\n\r\n", strip: nil).head.hasPrefix("GET /api/a HTTP/1.1\r\n"), "no strip: as sent")
    }
}
