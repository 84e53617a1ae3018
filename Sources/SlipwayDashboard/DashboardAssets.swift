/// The dashboard's one stylesheet and one script, served from the binary. The pages read fully without the
/// script; with it, times show in the viewer's zone and the page follows the event log live.
enum DashboardAssets {
    static let css = """
        :root { --bg: #fff; --fg: #1b1f24; --muted: #5b6570; --line: #d0d7de; --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700; --info: #0969da; }
        @media (prefers-color-scheme: dark) { :root { --bg: #0d1117; --fg: #e6edf3; --muted: #9198a1; --line: #30363d; --ok: #3fb950; --bad: #f85149; --warn: #d29922; --info: #58a6ff; } }
        * { box-sizing: border-box; }
        body { margin: 0; font: 15px/1.45 system-ui, sans-serif; background: var(--bg); color: var(--fg); }
        header { display: flex; flex-wrap: wrap; gap: .5rem 1rem; justify-content: space-between; padding: .6rem 1rem; border-bottom: 1px solid var(--line); }
        nav a { margin-right: .8rem; color: var(--info); } nav .brand { font-weight: 700; color: var(--fg); text-decoration: none; }
        main { padding: 1rem; max-width: 72rem; margin: 0 auto; }
        footer { padding: .5rem 1rem; color: var(--muted); font-size: 13px; }
        section.env { border: 1px solid var(--line); border-radius: 6px; padding: .2rem 1rem 1rem; margin-bottom: 1rem; }
        table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; display: block; overflow-x: auto; }
        caption { text-align: left; font-weight: 600; padding: .3rem 0; }
        th, td { text-align: left; padding: .25rem .6rem; border-bottom: 1px solid var(--line); white-space: nowrap; }
        .charts { display: flex; flex-wrap: wrap; gap: 1rem; } figure { margin: 0; } figcaption { font-size: 12px; color: var(--muted); }
        svg.chart { border: 1px solid var(--line); max-width: 100%; height: auto; }
        svg .axis { stroke: var(--line); } svg .scale { fill: var(--muted); font-size: 9px; }
        polyline { stroke-width: 1.5; } .s-rps { stroke: var(--info); } .s-err { stroke: var(--bad); } .s-p50 { stroke: var(--ok); } .s-p95 { stroke: var(--warn); } .s-p99 { stroke: var(--bad); } .s-target { stroke: var(--muted); stroke-dasharray: 4 3; }
        .ok, .tier-elite, .tier-high { color: var(--ok); } .bad, .sev-P0, .sev-P1 { color: var(--bad); } .tier-low { color: var(--bad); } .tier-medium, .sev-P2 { color: var(--warn); }
        .badge { display: inline-block; padding: 0 .4rem; border-radius: 4px; font-size: 13px; border: 1px solid currentColor; }
        .warn { color: var(--warn); } .info { color: var(--info); } .error { color: var(--bad); }
        button { font: inherit; padding: .3rem .8rem; border: 1px solid var(--line); border-radius: 5px; background: transparent; color: var(--fg); cursor: pointer; }
        button.danger { border-color: var(--bad); color: var(--bad); } form.inline { display: inline-block; margin-right: .5rem; }
        td.wrap { white-space: normal; min-width: 14rem; } ul.verdicts { margin: 0; padding-left: 1rem; } nav.envs { margin: .3rem 0; }
        pre { overflow-x: auto; border: 1px solid var(--line); padding: .6rem; max-height: 30rem; }
        .who { display: flex; gap: .5rem; align-items: center; color: var(--muted); }
        input { font: inherit; padding: .3rem; width: min(100%, 28rem); display: block; margin: .3rem 0 .6rem; }
        """

    static let js = """
        // Slipway dashboard: local times, and live updates from the event log (server-sent events).
        (function () {
          "use strict";
          function localTimes(root) {
            root.querySelectorAll("time[datetime]").forEach(function (t) {
              var d = new Date(t.getAttribute("datetime"));
              if (isNaN(d)) return;
              t.title = d.toISOString().replace(".000", "") + " UTC";
              t.textContent = d.toLocaleString();
            });
          }
          localTimes(document);
          // The sign-in page and error pages stay as they are (an error page's address may be a form's).
          if (!window.EventSource || location.pathname.indexOf("/ui/login") === 0 || document.body.getAttribute("data-live") === "off") return;
          var live = document.getElementById("live");
          var pending = false, submitting = false, after = document.body.getAttribute("data-after") || "";
          // A button pressed: its form is on its way; swapping the page under it now would only get in the way.
          document.addEventListener("submit", function () { submitting = true; });
          function refresh() {
            if (pending || submitting) return;
            pending = true;
            setTimeout(function () {
              fetch(location.href, { headers: { "Accept": "text/html" }, credentials: "same-origin" }).then(function (r) {
                return r.ok ? r.text() : null;
              }).then(function (html) {
                pending = false;
                if (!html) return;
                var doc = new DOMParser().parseFromString(html, "text/html");
                var fresh = doc.getElementById("main");
                if (fresh && !submitting) { document.getElementById("main").replaceWith(fresh); localTimes(fresh); }
                if (live) live.textContent = "Live · updated " + new Date().toLocaleTimeString();
              }).catch(function () { pending = false; });
            }, 250);
          }
          var source = new EventSource("/ui/events" + (after ? "?after=" + encodeURIComponent(after) : ""));
          source.onmessage = refresh;
          source.onopen = function () { if (live) live.textContent = "Live"; };
          source.onerror = function () { if (live) live.textContent = "Reconnecting…"; };
          // Traffic charts move without events: redraw them every 5 s.
          setInterval(refresh, 5000);
        })();
        """
}
