//! The page's table of every class: recall per (model, ontology), filterable by name and
//! sortable by any column with a few lines of inline script (no network, nothing external).
//! Without script the table is still whole, in class order.

use maud::{Markup, PreEscaped, html};
use ontosweep_results::SweepResults;

/// Sorts on a header click (numbers by `data-v`, text otherwise; again reverses) and hides
/// rows whose class does not contain the filter text. Works on text only, never markup.
const SCRIPT: &str = r#"(function(){
var t=document.getElementById('class-table');if(!t)return;
var body=t.tBodies[0],rows=Array.prototype.slice.call(body.rows);
var f=document.getElementById('class-filter');
f.addEventListener('input',function(){var q=f.value.toLowerCase();
rows.forEach(function(r){r.hidden=q!==''&&r.cells[0].textContent.toLowerCase().indexOf(q)<0;});});
Array.prototype.forEach.call(t.tHead.rows[0].cells,function(th,i){th.style.cursor='pointer';
th.addEventListener('click',function(){var up=th.getAttribute('data-sort')!=='up';
Array.prototype.forEach.call(t.tHead.rows[0].cells,function(h){h.removeAttribute('data-sort');});
th.setAttribute('data-sort',up?'up':'down');
var key=function(r){var c=r.cells[i],v=c.getAttribute('data-v');return v===null?c.textContent:parseFloat(v);};
rows.sort(function(a,b){var x=key(a),y=key(b),o=typeof x==='number'?x-y:(x<y?-1:x>y?1:0);return up?o:-o;});
rows.forEach(function(r){body.appendChild(r);});});});})();"#;

pub fn section(results: &SweepResults) -> Markup {
    let pairs: Vec<(String, Vec<f64>)> = results
        .models
        .iter()
        .flat_map(|model| {
            model.ontologies.iter().map(move |o| {
                let title = if results.models.len() > 1 {
                    format!("{} · {}", model.model, o.ontology)
                } else {
                    o.ontology.clone()
                };
                let recalls = o.metrics.per_class.iter().map(|c| c.recall).collect();
                (title, recalls)
            })
        })
        .collect();
    let support = |c: usize| {
        results
            .models
            .first()
            .and_then(|m| m.ontologies.first())
            .map_or(0, |o| o.metrics.per_class[c].support)
    };
    html! {
        details {
            summary { "Recall of all " (results.classes.len()) " classes (filter; click a column to sort)" }
            p {
                label {
                    "Class contains: "
                    input id="class-filter" type="search" autocomplete="off";
                }
            }
            table id="class-table" {
                thead {
                    tr {
                        th.l { "class" }
                        th { "images" }
                        @for (title, _) in &pairs { th { "recall · " (title) } }
                    }
                }
                tbody {
                    @for (c, class) in results.classes.iter().enumerate() {
                        tr {
                            td.l { (class) }
                            td data-v=(support(c)) { (support(c)) }
                            @for (_, recalls) in &pairs {
                                td data-v=(recalls[c]) { (format!("{:.1}%", 100.0 * recalls[c])) }
                            }
                        }
                    }
                }
            }
            script { (PreEscaped(SCRIPT)) }
        }
    }
}
