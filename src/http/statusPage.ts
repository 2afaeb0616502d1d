/**
 * A small self-contained status page: mounts with their state (coloured), reasons, last check
 * and latency, refreshed from /healthz/mounts every few seconds, and the driver's status with the
 * share's problems from /healthz (its `storage` field). No external resources.
 */
export function statusPageHtml(driverName: string): string {
  const title = `${driverName.replace(/[<>&"]/g, '')} volume health`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1d1d1f;background:#fafafa}
h1{font-size:20px;margin:0 0 4px} .sub{color:#666;margin-bottom:16px}
table{border-collapse:collapse;width:100%;background:#fff;box-shadow:0 1px 2px #0002}
th,td{text-align:left;padding:8px 10px;border-bottom:1px solid #eee;vertical-align:top}
th{background:#f0f0f3;font-weight:600}
.state{display:inline-block;padding:2px 8px;border-radius:10px;font-weight:600;color:#fff}
.healthy{background:#2e7d32}.degraded{background:#ef6c00}.unhealthy{background:#c62828}.unknown{background:#757575}
.injected{font-size:11px;color:#6a1b9a;margin-left:6px} .path{font-family:ui-monospace,monospace;font-size:12px;word-break:break-all}
#summary{margin:8px 0 4px;font-weight:600} #storage{margin:0 0 16px} #storage.bad{color:#c62828;font-weight:600}
</style></head>
<body>
<h1>${title}</h1>
<div class="sub">Refreshes every 5 seconds from <a href="/healthz/mounts">/healthz/mounts</a> &middot; <a href="/metrics">/metrics</a></div>
<div id="summary">loading&hellip;</div>
<div id="storage"></div>
<table><thead><tr><th>Mount</th><th>Volume</th><th>State</th><th>Reasons</th><th>Last check</th><th>Latency</th><th>Errors</th></tr></thead>
<tbody id="rows"></tbody></table>
<script>
function cell(text, cls){var td=document.createElement('td');if(cls)td.className=cls;td.textContent=text;return td;}
async function refresh(){
  try{
    // Both answers first, then one update of the page, so it never shows half a refresh.
    var answers=await Promise.all([fetch('/healthz/mounts',{cache:'no-store'}).then(function(r){return r.json();}),fetch('/healthz',{cache:'no-store'}).then(function(r){return r.json();})]);
    var mounts=answers[0];var h=answers[1];
    var rows=document.getElementById('rows');rows.textContent='';
    var paths=Object.keys(mounts).sort();var bad=0;
    paths.forEach(function(p){
      var m=mounts[p];if(m.state!=='healthy'&&m.state!=='unknown')bad++;
      var tr=document.createElement('tr');tr.dataset.path=p;tr.dataset.state=m.state;
      tr.appendChild(cell(p+' ('+m.kind+(m.readOnly?', ro':'')+')','path'));
      tr.appendChild(cell(m.volumeId));
      var st=document.createElement('td');var b=document.createElement('span');b.className='state '+m.state;b.textContent=m.state;st.appendChild(b);
      if(m.injected){var i=document.createElement('span');i.className='injected';i.textContent='injected';st.appendChild(i);}
      tr.appendChild(st);
      tr.appendChild(cell(m.issues.map(function(x){return x.reason+' ('+x.status+'): '+x.message;}).join('; ')||'-'));
      tr.appendChild(cell(m.lastCheckTime?new Date(m.lastCheckTime).toLocaleTimeString():'not yet'));
      tr.appendChild(cell(m.responseTimeMs===null?'-':m.responseTimeMs+' ms'));
      tr.appendChild(cell(String(m.errorCount)));
      rows.appendChild(tr);
    });
    document.getElementById('summary').textContent=paths.length+' mounts, '+bad+' not healthy, updated '+new Date().toLocaleTimeString();
    var storage=(h.storage||[]).map(function(x){return x.reason+': '+x.message;});
    var st=document.getElementById('storage');st.className=storage.length?'bad':'ok';
    st.textContent='Driver: '+h.status+' \u00b7 share: '+(storage.length?storage.join('; '):'reachable');
  }catch(e){document.getElementById('summary').textContent='cannot reach the driver: '+e;}
}
refresh();setInterval(refresh,5000);
</script>
</body></html>
`;
}
