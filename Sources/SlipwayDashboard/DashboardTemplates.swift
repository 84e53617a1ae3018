/// The dashboard's Mustache templates, compiled into the binary (no files to ship). `{{x}}` is HTML-escaped;
/// `{{{x}}}` is only used for markup the server built itself (the SVG charts, a rendered page body).
enum DashboardTemplates {
    static let all: [String: String] = [
        "layout": layout, "overview": overview, "environment": environment, "deployment": deployment,
        "backups": backups, "alerts": alerts, "incident": incident, "dora": dora, "login": login, "instances": instances,
        "decisions": decisions, "error": error,
    ]

    static let layout = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="color-scheme" content="light dark"><title>{{title}} · Slipway</title>
        <link rel="stylesheet" href="/ui/static/app.css"><script src="/ui/static/app.js" defer></script></head>
        <body data-after="{{after}}"{{#still}} data-live="off"{{/still}}>
        <header><nav aria-label="Main"><a href="/ui" class="brand">Slipway</a> <a href="/ui">Overview</a>
        <a href="/ui/backups">Backups</a> <a href="/ui/alerts">Alerts &amp; incidents</a> <a href="/ui/dora">DORA</a></nav>
        {{#user}}<form method="post" action="/ui/logout" class="who"><span>{{user}} ({{roles}})</span>
        <input type="hidden" name="csrf" value="{{csrf}}"><button type="submit">Sign out</button></form>{{/user}}</header>
        <main id="main">{{{body}}}</main>
        <footer><span id="live" aria-live="polite">Updated {{{renderedAt}}}</span></footer>
        </body></html>
        """

    static let overview = """
        <h1>Environments</h1>
        {{#environments}}
        <section class="env" aria-labelledby="env-{{name}}">
        <h2 id="env-{{name}}"><a href="/ui/env/{{name}}">{{name}}</a>
        {{#maintenance}} <span class="badge warn">maintenance</span>{{/maintenance}}{{#canary}} <span class="badge info">canary {{canary}}</span>{{/canary}}</h2>
        <p>Live: <strong class="release">{{live}}</strong>{{#commit}} <code>{{commit}}</code>{{/commit}}{{#previous}} · previous {{previous}}{{/previous}}</p>
        {{#lock}}<p>Lock held by {{lock}}</p>{{/lock}}
        {{#fleet}}<p class="fleet">Fleet: {{fleet}}</p>{{/fleet}}
        {{#deploying}}<p class="badge info">Deploying: {{deploying}}</p>{{/deploying}}
        <div class="charts"><figure>{{{rps}}}<figcaption>requests/s</figcaption></figure><figure>{{{errors}}}<figcaption>error rate</figcaption></figure>
        <figure>{{{p95}}}<figcaption>p95 latency</figcaption></figure></div>
        {{> instances}}
        </section>
        {{/environments}}
        {{^environments}}<p>No environment is configured.</p>{{/environments}}
        """

    static let instances = """
        <table><caption>Instances</caption><thead><tr><th scope="col">release</th><th scope="col">slot</th><th scope="col">state</th>
        <th scope="col">health</th><th scope="col">CPU</th><th scope="col">RSS</th></tr></thead><tbody>
        {{#instances}}<tr><td>{{release}}</td><td>{{slot}}</td><td>{{state}}</td><td class="{{healthClass}}">{{health}}</td><td>{{cpu}}</td><td>{{rss}}</td></tr>{{/instances}}
        {{^instances}}<tr><td colspan="6">No instance runs.</td></tr>{{/instances}}
        </tbody></table>
        """

    static let environment = """
        <h1>{{name}}</h1>
        <p>Live: <strong class="release">{{live}}</strong>{{#previous}} · previous {{previous}}{{/previous}} · strategy {{strategy}}</p>
        {{#maintenance}}<p class="badge warn">Maintenance: {{maintenance}}</p>{{/maintenance}}
        {{#lock}}<p>Lock held by {{lock}}</p>{{/lock}}
        {{#canary}}<section id="canary" aria-labelledby="canary-h"><h2 id="canary-h">Canary {{release}} against {{stable}}</h2>
        <p>Step <span id="canary-step">{{step}}</span> of {{steps}} · weight <span id="canary-weight">{{weight}}</span>% to {{release}}, {{stableWeight}}% to {{stable}}</p>
        {{#verdict}}<p class="verdict">Last analysis: {{verdict}}</p>{{/verdict}}
        {{#canDeploy}}<form method="post" action="/ui/env/{{env}}/canary"><input type="hidden" name="csrf" value="{{csrf}}">
        <button name="action" value="promote">Promote</button> <button name="action" value="abort" class="danger">Abort</button></form>{{/canDeploy}}
        </section>{{/canary}}
        {{#decisions}}<section aria-labelledby="decisions-h"><h2 id="decisions-h">Canary decisions of deployment <a href="/ui/deployments/{{deployment}}">#{{deployment}}</a></h2>
        {{> decisions}}{{#older}}<p>{{older}} older decision(s) on <a href="/ui/deployments/{{deployment}}">the deployment's page</a>.</p>{{/older}}</section>{{/decisions}}
        {{#pending}}<section aria-labelledby="approvals-h"><h2 id="approvals-h">Waiting for approval</h2>
        {{#requests}}<div class="approval"><p>Deployment <a href="/ui/deployments/{{id}}">#{{id}}</a> of {{version}}, requested by {{actor}} {{{started}}}</p>
        {{#canApprove}}<form method="post" action="/ui/env/{{env}}/approvals" class="inline"><input type="hidden" name="csrf" value="{{csrf}}">
        <input type="hidden" name="deployment" value="{{id}}"><button name="decision" value="approve" id="approve-{{id}}">Approve</button></form>
        <form method="post" action="/ui/env/{{env}}/approvals" class="inline"><input type="hidden" name="csrf" value="{{csrf}}">
        <input type="hidden" name="deployment" value="{{id}}"><label for="why-{{id}}">Reason to reject</label><input id="why-{{id}}" name="comment" required>
        <button name="decision" value="reject" class="danger">Reject</button></form>{{/canApprove}}</div>{{/requests}}
        </section>{{/pending}}
        {{#canDeploy}}<section aria-labelledby="actions-h"><h2 id="actions-h">Actions</h2>
        {{#previous}}<form method="post" action="/ui/env/{{name}}/rollback" class="inline"><input type="hidden" name="csrf" value="{{csrf}}">
        <button type="submit" class="danger" id="rollback">Roll back to {{previous}}</button></form>{{/previous}}
        <form method="post" action="/ui/env/{{name}}/maintenance" class="inline"><input type="hidden" name="csrf" value="{{csrf}}">
        {{#maintenance}}<button name="action" value="off">Maintenance off</button>{{/maintenance}}{{^maintenance}}<button name="action" value="on">Maintenance on</button>{{/maintenance}}</form>
        </section>{{/canDeploy}}
        <section aria-labelledby="traffic-h"><h2 id="traffic-h">Traffic (last 5 minutes)</h2>
        {{#traffic}}<h3>{{release}}</h3><div class="charts"><figure>{{{rps}}}<figcaption>requests/s</figcaption></figure>
        <figure>{{{errors}}}<figcaption>5xx rate</figcaption></figure><figure>{{{latency}}}<figcaption>p50 / p95 / p99</figcaption></figure></div>{{/traffic}}
        {{^traffic}}<p>No traffic recorded yet.</p>{{/traffic}}</section>
        {{#hasCertificates}}<section aria-labelledby="certs-h"><h2 id="certs-h">Certificates</h2>
        <table id="certificates"><thead><tr><th scope="col">hosts</th><th scope="col">address</th><th scope="col">source</th><th scope="col">issuer</th>
        <th scope="col">not after</th><th scope="col">days left</th><th scope="col">last renewal</th><th scope="col">next attempt</th><th scope="col">error</th></tr></thead><tbody>
        {{/hasCertificates}}{{#certificates}}<tr><td>{{hosts}}</td><td>{{address}}</td><td>{{source}}</td><td>{{issuer}}</td><td>{{{notAfter}}}</td>
        <td{{#soon}} class="bad"{{/soon}}>{{days}}</td><td>{{{renewed}}}</td><td>{{{next}}}</td><td>{{error}}</td></tr>{{/certificates}}
        {{#hasCertificates}}</tbody></table></section>{{/hasCertificates}}
        {{#hasAccessories}}<section aria-labelledby="accessories-h"><h2 id="accessories-h">Accessories</h2>
        <table id="accessories"><thead><tr><th scope="col">name</th><th scope="col">state</th><th scope="col">pid</th><th scope="col">ready</th>
        <th scope="col">restarts</th><th scope="col">started</th><th scope="col">note</th></tr></thead><tbody>
        {{/hasAccessories}}{{#accessories}}<tr><td>{{name}}</td><td{{#bad}} class="bad"{{/bad}}>{{state}}</td><td>{{pid}}</td><td>{{ready}}</td>
        <td>{{restarts}}</td><td>{{{started}}}</td><td>{{note}}</td></tr>{{/accessories}}
        {{#hasAccessories}}</tbody></table></section>{{/hasAccessories}}
        {{#hasProcessTypes}}<section aria-labelledby="process-types-h"><h2 id="process-types-h">Process types</h2>
        <table id="process-types"><thead><tr><th scope="col">type</th><th scope="col">release</th><th scope="col">slot</th><th scope="col">state</th>
        <th scope="col">pid</th><th scope="col">restarts</th><th scope="col">started</th></tr></thead><tbody>
        {{/hasProcessTypes}}{{#processTypes}}<tr><td>{{type}}</td><td>{{release}}</td><td>{{slot}}</td><td{{#bad}} class="bad"{{/bad}}>{{state}}</td>
        <td>{{pid}}</td><td>{{restarts}}</td><td>{{{started}}}</td></tr>{{/processTypes}}
        {{#hasProcessTypes}}</tbody></table></section>{{/hasProcessTypes}}
        {{#fleet}}<section id="fleet" aria-labelledby="fleet-h"><h2 id="fleet-h">Fleet: {{hosts}} ({{strategy}}, shared state)</h2>
        {{#error}}<p class="bad">{{error}}</p>{{/error}}
        {{#latest}}<table id="fleet-hosts"><caption>Hosts after {{latest}}</caption><thead><tr><th scope="col">host</th><th scope="col">state</th>
        <th scope="col">serving</th><th scope="col">message</th></tr></thead><tbody>{{/latest}}{{#results}}<tr><td>{{host}}</td><td{{#bad}} class="bad"{{/bad}}>{{state}}</td>
        <td>{{current}}</td><td>{{message}}</td></tr>{{/results}}{{#latest}}</tbody></table>{{/latest}}
        <table id="fleet-deployments"><caption>Fleet deployments</caption><thead><tr><th scope="col">#</th><th scope="col">id</th><th scope="col">kind</th>
        <th scope="col">version</th><th scope="col">state</th><th scope="col">by</th><th scope="col">started</th><th scope="col">took</th><th scope="col">message</th></tr></thead><tbody>
        {{#deployments}}<tr><td>{{number}}</td><td>{{id}}</td><td>{{kind}}</td><td>{{version}}</td><td class="{{stateClass}}">{{state}}</td><td>{{actor}}</td>
        <td>{{{started}}}</td><td>{{took}}</td><td>{{message}}</td></tr>{{/deployments}}{{^deployments}}<tr><td colspan="9">No fleet deployment yet.</td></tr>{{/deployments}}
        </tbody></table>
        <table id="fleet-events"><caption>Fleet events, newest first</caption><thead><tr><th scope="col">time</th><th scope="col">type</th><th scope="col">detail</th></tr></thead><tbody>
        {{#events}}<tr><td>{{{time}}}</td><td>{{type}}</td><td>{{detail}}</td></tr>{{/events}}</tbody></table>
        </section>{{/fleet}}
        {{> instances}}
        <section aria-labelledby="history-h"><h2 id="history-h">Deployments</h2>
        <table><thead><tr><th scope="col">#</th><th scope="col">version</th><th scope="col">kind</th><th scope="col">state</th><th scope="col">by</th>
        <th scope="col">started</th><th scope="col">took</th></tr></thead><tbody>
        {{#history}}<tr><td><a href="/ui/deployments/{{id}}">{{id}}</a></td><td>{{version}}</td><td>{{kind}}</td><td class="{{stateClass}}">{{state}}</td>
        <td>{{actor}}</td><td>{{{started}}}</td><td>{{took}}</td></tr>{{/history}}
        </tbody></table></section>
        """

    static let deployment = """
        <h1>Deployment {{id}}: {{version}} to <a href="/ui/env/{{environment}}">{{environment}}</a></h1>
        <p class="{{stateClass}}">{{state}}{{#message}}: {{message}}{{/message}}</p>
        <p>{{kind}} by {{actor}} · started {{{started}}}{{#took}} · took {{took}}{{/took}}</p>
        <h2>Steps</h2><ol class="steps">{{#steps}}<li>{{{time}}} <strong>{{state}}</strong> {{detail}}</li>{{/steps}}</ol>
        {{#approvals}}<section aria-labelledby="approvals-h"><h2 id="approvals-h">Approvals</h2><p>{{counting}} of {{required}} required count.</p>
        <table><thead><tr><th scope="col">when</th><th scope="col">who</th><th scope="col">decision</th><th scope="col">comment</th></tr></thead><tbody>
        {{#rows}}<tr><td>{{{time}}}</td><td>{{user}}</td><td class="{{decisionClass}}">{{decision}}</td><td>{{comment}}</td></tr>{{/rows}}
        {{^rows}}<tr><td colspan="4">No decision yet.</td></tr>{{/rows}}</tbody></table></section>{{/approvals}}
        <section aria-labelledby="verdicts-h"><h2 id="verdicts-h">Verdicts</h2>
        {{#decisions}}{{> decisions}}{{/decisions}}{{^decisions}}<p>No canary analysis ran for this deployment; health gates and the post-deploy watch are in the steps above.</p>{{/decisions}}</section>
        <h2>Log</h2><pre class="log">{{log}}</pre>
        """

    static let backups = """
        <h1>Backups and drills</h1>
        {{#environments}}<section aria-labelledby="b-{{name}}"><h2 id="b-{{name}}">{{name}}</h2>
        <table><caption>Backups</caption><thead><tr><th scope="col">id</th><th scope="col">taken</th><th scope="col">age</th><th scope="col">size</th>
        <th scope="col">stores</th><th scope="col">verified</th><th scope="col">reason</th><th scope="col">retention</th></tr></thead><tbody>
        {{#backups}}<tr><td><code>{{id}}</code></td><td>{{{taken}}}</td><td>{{age}}</td><td>{{size}}</td><td>{{stores}}</td><td class="{{verifyClass}}">{{verified}} {{{verifiedAt}}}</td><td>{{reason}}</td>
        <td class="retention {{retentionClass}}">{{retention}}</td></tr>{{/backups}}
        {{^backups}}<tr><td colspan="8">No backup yet.</td></tr>{{/backups}}</tbody></table>
        {{#older}}<p>{{older}}</p>{{/older}}
        {{#hasContinuous}}<table><caption>Continuous archives</caption><thead><tr><th scope="col">source</th><th scope="col">generation or server</th>
        <th scope="col">newest change shipped</th><th scope="col">lag</th><th scope="col">WAL kept</th><th scope="col">state</th></tr></thead><tbody>
        {{#continuous}}<tr><td>{{source}}</td><td><code>{{generation}}</code></td><td>{{{shipped}}}</td><td>{{lag}}</td><td>{{retained}}</td>
        <td class="{{stateClass}}">{{state}}</td></tr>{{/continuous}}</tbody></table>{{/hasContinuous}}
        {{#rtoChart}}<div class="charts"><figure>{{{rtoChart}}}<figcaption>drill RTO against its target (dashed)</figcaption></figure>
        <figure>{{{rpoChart}}}<figcaption>drill RPO against its target (dashed)</figcaption></figure></div>{{/rtoChart}}
        <table><caption>Drills</caption><thead><tr><th scope="col">when</th><th scope="col">backup</th><th scope="col">RTO</th><th scope="col">RTO target</th>
        <th scope="col">RPO</th><th scope="col">RPO target</th><th scope="col">result</th></tr></thead><tbody>
        {{#drills}}<tr><td>{{{when}}}</td><td><code>{{backup}}</code></td><td>{{rto}}</td><td>{{rtoTarget}}</td><td>{{rpo}}</td><td>{{rpoTarget}}</td><td class="{{resultClass}}">{{result}}</td></tr>{{/drills}}
        {{^drills}}<tr><td colspan="7">No drill yet.</td></tr>{{/drills}}</tbody></table></section>{{/environments}}
        """

    static let alerts = """
        <h1>Alerts and incidents</h1>
        <table><caption>Alerts firing and pending</caption><thead><tr><th scope="col">severity</th><th scope="col">environment</th><th scope="col">alert</th>
        <th scope="col">state</th><th scope="col">since</th><th scope="col">summary</th><th scope="col">runbook</th></tr></thead><tbody>
        {{#alerts}}<tr class="{{severityClass}}"><td>{{severity}}</td><td>{{environment}}</td><td>{{name}}</td><td>{{state}}</td><td>{{{since}}}</td><td>{{summary}}</td>
        <td>{{#runbook}}<a href="{{runbook}}" rel="noopener">runbook</a>{{/runbook}}</td></tr>{{/alerts}}
        {{^alerts}}<tr><td colspan="7">Nothing is firing.</td></tr>{{/alerts}}</tbody></table>
        <table><caption>Incidents</caption><thead><tr><th scope="col">#</th><th scope="col">severity</th><th scope="col">environment</th><th scope="col">status</th>
        <th scope="col">opened</th><th scope="col">title</th></tr></thead><tbody>
        {{#incidents}}<tr><td><a href="/ui/incidents/{{id}}">{{id}}</a></td><td>{{severity}}</td><td>{{environment}}</td><td>{{status}}</td><td>{{{opened}}}</td><td>{{title}}</td></tr>{{/incidents}}
        {{^incidents}}<tr><td colspan="6">No incident.</td></tr>{{/incidents}}</tbody></table>
        """

    static let incident = """
        <h1>Incident {{id}}: {{title}}</h1>
        <p>{{severity}} · {{environment}} · {{status}} · opened {{{opened}}}</p>
        <h2>Timeline</h2><ol class="steps">{{#timeline}}<li>{{{time}}} {{text}}</li>{{/timeline}}</ol>
        <section class="review" aria-label="Post-incident review">{{{reviewHTML}}}</section>
        <details><summary>The review as Markdown (to paste into a wiki or a ticket)</summary><pre class="review">{{review}}</pre></details>
        """

    static let dora = """
        <h1>DORA metrics: {{scope}}</h1>
        {{#envNav}}<nav aria-label="Environments" class="envs">{{#list}}{{#current}}<strong>{{name}}</strong>{{/current}}{{^current}}<a href="/ui/dora?env={{name}}">{{name}}</a>{{/current}} {{/list}}</nav>{{/envNav}}
        <h2>The last 90 days</h2><p>Since {{{since}}}</p>
        <table><thead><tr><th scope="col">metric</th><th scope="col">value</th><th scope="col">tier</th><th scope="col">from</th></tr></thead><tbody>
        {{#metrics}}<tr><th scope="row">{{name}}</th><td>{{value}}</td><td class="tier-{{tier}}">{{tier}}</td><td>{{detail}}</td></tr>{{/metrics}}
        </tbody></table>
        <section aria-labelledby="trend-h"><h2 id="trend-h">Over time</h2><p>Each point is the 30 days before that week's end.</p>
        <div class="charts">{{#charts}}<figure>{{{chart}}}<figcaption>{{name}}</figcaption></figure>{{/charts}}</div>
        <table id="trend"><thead><tr><th scope="col">30 days to</th>{{#columns}}<th scope="col">{{name}}</th>{{/columns}}</tr></thead><tbody>
        {{#weeks}}<tr><td>{{{end}}}</td>{{#cells}}<td>{{value}} <span class="tier-{{tier}}">{{tier}}</span></td>{{/cells}}</tr>{{/weeks}}
        </tbody></table></section>
        """

    /// A canary decision per row, each rule's verdict with its evidence (the environment and deployment pages).
    static let decisions = """
        <table class="decisions"><thead><tr><th scope="col">when</th><th scope="col">decision</th><th scope="col">step · weight</th>
        <th scope="col">releases</th><th scope="col">verdicts</th></tr></thead><tbody>
        {{#rows}}<tr><td>{{{time}}}</td><td class="wrap {{changeClass}}"><strong>{{change}}</strong> {{detail}}</td><td>{{step}} · {{weight}}%</td>
        <td class="wrap">{{#figures}}{{canaryFigures}}<br>{{stableFigures}}{{#window}}<br>latency over {{window}}{{/window}}{{/figures}}</td>
        <td class="wrap">{{#figures}}<ul class="verdicts">{{#verdicts}}<li class="{{verdictClass}}"><strong>{{verdict}}</strong> {{rule}}: {{detail}}{{#evidence}} ({{evidence}}){{/evidence}}</li>{{/verdicts}}</ul>{{/figures}}</td></tr>{{/rows}}
        </tbody></table>
        """

    /// What a failed page or button answers a browser: the reason, and the way back.
    static let error = """
        <h1>{{heading}}</h1>
        <p class="error" role="alert">{{message}}</p>
        <p><a href="{{back}}">Back</a>{{#signIn}} · <a href="/ui/login">Sign in</a>{{/signIn}}</p>
        """

    static let login = """
        <h1>Sign in</h1>
        {{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
        <form method="post" action="/ui/login"><label for="token">API token</label>
        <input id="token" name="token" type="password" autocomplete="current-password" required>
        <button type="submit">Sign in</button></form>
        <p>An admin makes a token with <code>slipway token create --user NAME --role viewer</code>; <code>slipway dashboard</code> prints a one-time sign-in link.</p>
        """
}
