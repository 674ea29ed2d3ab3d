//! `index.html`: the charts, the summary table, the prompts and the image galleries.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use html_escape::encode_text as esc;
use ontosweep_results::{OntologyResults, SweepResults};

use crate::names::file_stem;
use crate::thumbnails::{GALLERY_LIMIT, Thumbnails, galleries};
use crate::{ReportError, io_error};

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1200px;color:#222;padding:0 1rem}
h1{margin-bottom:.2rem}.meta{color:#666;margin-top:0}table{border-collapse:collapse;margin:1rem 0}
th,td{padding:.3rem .6rem;border-bottom:1px solid #ddd;text-align:right}th{background:#f4f4f4}
td.l,th.l{text-align:left}tr.baseline td{background:#f7f7f7}.chart{max-width:100%;border:1px solid #eee}
.gallery{display:flex;flex-wrap:wrap;gap:.5rem}.gallery figure{margin:0;width:120px;font-size:.75rem}
.gallery img{width:112px;height:112px;object-fit:cover;border-radius:4px;display:block}
.bad{color:#c62828}.good{color:#2e7d32}details{margin:.6rem 0}summary{cursor:pointer;font-weight:600}
code{background:#f4f4f4;padding:0 .2rem}";

pub fn write(
    results: &SweepResults,
    dir: &Path,
    thumbs: &Thumbnails,
) -> Result<PathBuf, ReportError> {
    let mut page = String::new();
    let run = &results.run;
    let _ = write!(
        page,
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>{name} — ontosweep</title><style>{STYLE}</style></head><body>\
         <h1>{name}</h1><p class=meta>{n} images, {k} classes ({classes}), {s} skipped · ONNX Runtime {ort} · baseline <b>{base}</b></p>",
        name = esc(&results.experiment),
        n = results.images.len(),
        k = results.classes.len(),
        classes = esc(&results.classes.join(", ")),
        s = results.skipped.len(),
        ort = esc(&run.onnxruntime.version),
        base = esc(&results.baseline),
    );
    page.push_str(
        "<img class=chart id=accuracy-chart src=\"accuracy.svg\" alt=\"accuracy by ontology\">",
    );
    summary_table(&mut page, results);
    agreement(&mut page, results);
    page.push_str(
        "<h2>Per class</h2><img class=chart src=\"per_class.svg\" alt=\"recall per class\">",
    );
    page.push_str("<p>Tables: <a href=summary.csv>summary.csv</a> · <a href=per_class.csv>per_class.csv</a> · <a href=predictions.csv>predictions.csv</a> · <a href=skipped.csv>skipped.csv</a> · <a href=run.json>run.json</a></p>");
    prompts(&mut page, results);
    let g = galleries(results);
    for (m, model) in results.models.iter().enumerate() {
        let _ = write!(page, "<h2>Images · {}</h2>", esc(&model.model));
        for (o, ontology) in model.ontologies.iter().enumerate() {
            let _ = write!(page, "<h3>{}</h3>", esc(&ontology.ontology));
            let confusion = format!(
                "confusion_{}_{}.svg",
                file_stem(&model.model),
                file_stem(&ontology.ontology)
            );
            let _ = write!(
                page,
                "<details><summary>confusion matrix</summary><img class=chart src=\"{confusion}\" alt=\"confusion matrix\"></details>"
            );
            gallery(
                &mut page,
                results,
                ontology,
                thumbs,
                "misclassified",
                &g.misclassified[m][o],
            );
            if ontology.ontology != results.baseline {
                gallery(
                    &mut page,
                    results,
                    ontology,
                    thumbs,
                    "right here, wrong in the baseline",
                    &g.gained[m][o],
                );
                gallery(
                    &mut page,
                    results,
                    ontology,
                    thumbs,
                    "wrong here, right in the baseline",
                    &g.lost[m][o],
                );
            }
        }
    }
    if !results.skipped.is_empty() {
        let _ = write!(
            page,
            "<h2>Skipped files ({})</h2><table><tr><th class=l>file<th class=l>reason</tr>",
            results.skipped.len()
        );
        for s in &results.skipped {
            let _ = write!(
                page,
                "<tr><td class=l>{}<td class=l>{}</tr>",
                esc(&s.path),
                esc(&s.reason)
            );
        }
        page.push_str("</table>");
    }
    page.push_str("</body></html>\n");
    let path = dir.join("index.html");
    std::fs::write(&path, page).map_err(io_error(&path))?;
    Ok(PathBuf::from("index.html"))
}

fn summary_table(page: &mut String, results: &SweepResults) {
    page.push_str("<h2>Summary</h2><table id=summary><tr><th class=l>model<th class=l>ontology<th>accuracy<th>95% CI<th>balanced<th>macro F1<th>ECE<th>Δ vs baseline [95% CI]<th>McNemar p<th>Holm p</tr>");
    for model in &results.models {
        for o in &model.ontologies {
            let m = &o.metrics;
            let baseline = o.ontology == results.baseline;
            let comparison = match &o.vs_baseline {
                Some(c) => {
                    let class = if c.delta_ci_low > 0.0 {
                        "good"
                    } else if c.delta_ci_high < 0.0 {
                        "bad"
                    } else {
                        ""
                    };
                    format!(
                        "<td class={class}>{:+.1} [{:+.1}, {:+.1}]<td>{}<td>{}",
                        100.0 * c.delta,
                        100.0 * c.delta_ci_low,
                        100.0 * c.delta_ci_high,
                        crate::format_p(c.mcnemar_p),
                        crate::format_p(c.mcnemar_p_holm)
                    )
                }
                None => "<td>baseline<td><td>".into(),
            };
            let _ = write!(
                page,
                "<tr{}><td class=l>{}<td class=l>{}<td>{:.1}%<td>{:.1}–{:.1}<td>{:.1}%<td>{:.3}<td>{:.3}{comparison}</tr>",
                if baseline { " class=baseline" } else { "" },
                esc(&model.model),
                esc(&o.ontology),
                100.0 * m.accuracy,
                100.0 * m.ci_low,
                100.0 * m.ci_high,
                100.0 * m.balanced_accuracy,
                m.macro_f1,
                m.ece,
            );
        }
    }
    page.push_str("</table>");
}

fn agreement(page: &mut String, results: &SweepResults) {
    for model in &results.models {
        let Some(a) = &model.vs_reference else {
            continue;
        };
        let _ = write!(
            page,
            "<h2>{} against {}</h2><p>Image embeddings: mean cosine {:.4}, lowest {:.4}.</p><table><tr><th class=l>ontology<th>same prediction</tr>",
            esc(&model.model),
            esc(&a.reference),
            a.image_cosine_mean,
            a.image_cosine_min
        );
        for (o, share) in model.ontologies.iter().zip(&a.prediction_agreement) {
            let _ = write!(
                page,
                "<tr><td class=l>{}<td>{:.1}%</tr>",
                esc(&o.ontology),
                100.0 * share
            );
        }
        page.push_str("</table>");
    }
}

fn prompts(page: &mut String, results: &SweepResults) {
    let Some(model) = results.models.first() else {
        return;
    };
    page.push_str("<h2>Prompts</h2>");
    for o in &model.ontologies {
        let _ = write!(
            page,
            "<details><summary>{}</summary><table>",
            esc(&o.ontology)
        );
        for (class, list) in &o.prompts {
            let quoted: Vec<String> = list
                .iter()
                .map(|p| format!("<code>{}</code>", esc(p)))
                .collect();
            let _ = write!(
                page,
                "<tr><td class=l>{}<td class=l>{}</tr>",
                esc(class),
                quoted.join(" ")
            );
        }
        page.push_str("</table></details>");
    }
}

fn gallery(
    page: &mut String,
    results: &SweepResults,
    ontology: &OntologyResults,
    thumbs: &Thumbnails,
    title: &str,
    images: &[usize],
) {
    let _ = write!(
        page,
        "<details><summary>{title}: {}</summary><div class=gallery>",
        images.len()
    );
    for &i in images.iter().take(GALLERY_LIMIT) {
        let image = &results.images[i];
        let predicted = ontology.predictions[i];
        let confidence = ontology.probabilities[i][predicted];
        let picture = match thumbs.get(i) {
            Some(src) => format!(
                "<img loading=lazy src=\"{src}\" alt=\"{}\">",
                esc(&image.path)
            ),
            None => String::new(),
        };
        let _ = write!(
            page,
            "<figure title=\"{path}\">{picture}<figcaption>{truth} → <b>{pred}</b> ({p:.0}%)</figcaption></figure>",
            path = esc(&image.path),
            truth = esc(&results.classes[image.label]),
            pred = esc(&results.classes[predicted]),
            p = 100.0 * confidence,
        );
    }
    if images.len() > GALLERY_LIMIT {
        let _ = write!(
            page,
            "<p>… and {} more (see predictions.csv)</p>",
            images.len() - GALLERY_LIMIT
        );
    }
    page.push_str("</div></details>");
}
