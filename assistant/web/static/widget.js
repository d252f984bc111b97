/* Parlement Q&A widget. One tag on any page adds a launcher button and a chat panel:
 *   <script src="https://HOST/widget.js" data-key="intranet-hr" defer></script>
 * Options (data attributes): data-key, data-title, data-greeting, data-lang ("nl" or "en"), data-position
 * ("bottom-right" or "bottom-left"), data-accent (a CSS colour), data-filters (JSON), data-department.
 *
 * Everything lives in a Shadow DOM, so the page's CSS and ours never meet. The widget talks only to the server this
 * script came from. Text from the server (documents, messages) is only ever inserted with textContent or
 * createTextNode, never as HTML: a document that quotes <script> shows it as text. Plain JavaScript, no build step.
 *
 * The conversation lives in the panel: each question goes with the earlier ones and the parts cited for them
 * (`history`), so the server, which keeps nothing, can read "En bij Justitie?" as a follow-up. "Nieuw gesprek"
 * forgets it.
 *
 * Under each answer two thumbs ask whether it helped; a thumb is sent at once (api/widget/KEY/feedback), and an
 * optional comment box then amends that verdict with the receipt the server gave back.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || !script.src) {
    return; // no script element to read the server address and the options from
  }

  var BASE = new URL(".", script.src).href; // the server the script came from, with any path prefix
  var QUESTION_MAX = 2000;
  var CLIP = 1500; // characters of an answer shown, as in the chat; the source view has the rest
  var HISTORY_TURNS = 10; // earlier turns sent with a question, as the server allows
  var CITED_MAX = 10; // cited parts per turn, as the server allows
  var BODY_BYTES = 16000; // the server refuses widget requests over 16,384 bytes: older turns are left out first

  var STRINGS = {
    nl: {
      title: "Parlement Q&A",
      greeting:
        "Stel een vraag over de schriftelijke vragen. U krijgt het antwoord in de eigen woorden van de minister, " +
        "met de bron tot op de deelvraag.",
      launcher: "Stel een vraag",
      open: "Open de assistent",
      close: "Sluit de assistent",
      label: "Uw vraag",
      placeholder: "Typ uw vraag en druk op Enter",
      send: "Verstuur",
      busy: "Even zoeken\u2026",
      question: "Vraag",
      related: "Ook relevant",
      suggestions: "Misschien bedoelt u:",
      noAnswer: "Ik vond geen antwoord op deze vraag in de schriftelijke vragen.",
      refusedOrigin:
        "Deze website mag de assistent niet gebruiken (widget-sleutel \u201c{key}\u201d niet toegestaan voor {origin}).",
      refusedKey: "Deze website mag de assistent niet gebruiken (onbekende widget-sleutel \u201c{key}\u201d).",
      tooMany: "Er worden nu te veel vragen gesteld. Probeer het over {seconds} seconden opnieuw, alvast bedankt.",
      unreachable: "De assistent is nu niet bereikbaar. Probeer het later opnieuw.",
      tooLong: "De vraag is te lang: {n} tekens, maximaal {max}.",
      refers: "vraag {part} verwijst naar vraag {ref}; hieronder het antwoord op vraag {ref}.",
      newTab: " (opent in een nieuw tabblad)",
      reask: "Stel als nieuwe vraag",
      reaskLabel: "Stel \u201c{question}\u201d als nieuwe vraag, los van het gesprek",
      restart: "Nieuw gesprek",
      restartLabel: "Nieuw gesprek: vergeet de vorige vragen",
      helpful: "Was dit antwoord nuttig?",
      yes: "Ja",
      no: "Nee",
      up: "Ja, nuttig",
      down: "Nee, niet nuttig",
      thanks: "Bedankt voor uw feedback.",
      comment: "Toelichting (niet verplicht)",
      commentSend: "Verstuur toelichting",
      commentSaved: "Bedankt, uw toelichting is bewaard."
    },
    en: {
      title: "Parliament Q&A",
      greeting:
        "Ask a question about the written parliamentary questions. You get the minister's own answer, " +
        "with its source down to the sub-question.",
      launcher: "Ask a question",
      open: "Open the assistant",
      close: "Close the assistant",
      label: "Your question",
      placeholder: "Type your question and press Enter",
      send: "Send",
      busy: "Searching\u2026",
      question: "Question",
      related: "Also relevant",
      suggestions: "Did you mean:",
      noAnswer: "I found no answer to this question in the written questions.",
      refusedOrigin:
        "This website may not use the assistant (widget key \u201c{key}\u201d is not allowed for {origin}).",
      refusedKey: "This website may not use the assistant (unknown widget key \u201c{key}\u201d).",
      tooMany: "Too many questions are being asked right now. Please try again in {seconds} seconds, thank you.",
      unreachable: "The assistant cannot be reached right now. Please try again later.",
      tooLong: "The question is too long: {n} characters, at most {max}.",
      refers: "question {part} refers to question {ref}; below is the answer to question {ref}.",
      newTab: " (opens in a new tab)",
      reask: "Ask as a new question",
      reaskLabel: "Ask \u201c{question}\u201d as a new question, apart from the conversation",
      restart: "New conversation",
      restartLabel: "New conversation: forget the earlier questions",
      helpful: "Was this answer helpful?",
      yes: "Yes",
      no: "No",
      up: "Yes, helpful",
      down: "No, not helpful",
      thanks: "Thank you for your feedback.",
      comment: "Comment (optional)",
      commentSend: "Send comment",
      commentSaved: "Thank you, your comment is saved."
    }
  };

  var data = script.dataset;
  var KEY = data.key || "demo";
  var T = STRINGS[/^en\b/i.test(data.lang || "") ? "en" : "nl"];
  var TITLE = data.title || T.title;
  var LEFT = data.position === "bottom-left";
  var ACCENT = data.accent && window.CSS && CSS.supports("color", data.accent) ? data.accent : "#0b5cad";
  var FILTERS = readFilters();
  var API = BASE + "api/widget/" + encodeURIComponent(KEY) + "/";

  var CSS_TEXT = [
    ":host { all: initial !important; }",
    ".pqa { position: fixed; bottom: 20px; right: 20px; z-index: 2147483000; display: flex;",
    "  flex-direction: column; align-items: flex-end; gap: 12px; box-sizing: border-box;",
    "  font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; font-size: 15px; font-weight: 400;",
    "  line-height: 1.45; color: #1f2328; text-align: left; letter-spacing: normal; text-transform: none; }",
    ".pqa.left { right: auto; left: 20px; align-items: flex-start; }",
    ".pqa *, .pqa *::before, .pqa *::after { box-sizing: border-box; }",
    "button, textarea { font-family: inherit; font-size: inherit; line-height: inherit; }",
    ".launcher { display: inline-flex; align-items: center; gap: 8px; margin: 0; padding: 12px 18px; border: 0;",
    "  border-radius: 999px; background: var(--pqa-accent); color: #fff; font-size: 15px; font-weight: 600;",
    "  cursor: pointer; box-shadow: 0 4px 14px rgba(0, 0, 0, .25); }",
    ".launcher .icon { display: inline-flex; align-items: center; justify-content: center; width: 22px;",
    "  height: 22px; border-radius: 50%; background: rgba(255, 255, 255, .25); font-size: 14px; }",
    ".panel { display: flex; flex-direction: column; width: 390px; max-width: calc(100vw - 40px); height: 560px;",
    "  max-height: calc(100vh - 110px); overflow: hidden; background: #fff; border: 1px solid #d0d7de;",
    "  border-radius: 12px; box-shadow: 0 12px 40px rgba(0, 0, 0, .25); }",
    ".panel[hidden] { display: none; }",
    ".head { display: flex; align-items: center; justify-content: space-between; gap: 8px; padding: 10px 10px",
    "  10px 16px; background: var(--pqa-accent); color: #fff; }",
    ".head h2 { margin: 0; font-size: 16px; font-weight: 600; line-height: 1.3; color: #fff; }",
    ".close { width: 34px; height: 34px; margin: 0; padding: 0; border: 0; border-radius: 6px;",
    "  background: transparent; color: #fff; font-size: 24px; line-height: 1; cursor: pointer; }",
    ".close:hover { background: rgba(255, 255, 255, .18); }",
    ".head h2 { flex: 1; }",
    ".restart { margin: 0; padding: 5px 10px; border: 1px solid rgba(255, 255, 255, .7); border-radius: 6px;",
    "  background: transparent; color: #fff; font-size: 13px; font-weight: 600; cursor: pointer; white-space: nowrap; }",
    ".restart:hover { background: rgba(255, 255, 255, .18); }",
    ".understood { margin: 0 0 10px; padding: 6px 9px; border-radius: 6px; background: #eef4ff; color: #1f2328;",
    "  font-size: 14px; }",
    ".understood p { margin: 0 0 4px; }",
    ".reask { margin: 0; padding: 3px 9px; border: 1px solid var(--pqa-accent); border-radius: 6px;",
    "  background: #fff; color: var(--pqa-accent); font-size: 13px; font-weight: 600; cursor: pointer; }",
    ".reask:disabled { opacity: .55; cursor: not-allowed; }",
    ".log { position: relative; flex: 1; display: flex; flex-direction: column; gap: 10px; overflow-y: auto;",
    "  padding: 14px; background: #f6f7f9; }",
    ".msg { margin: 0; padding: 9px 12px; border-radius: 10px; background: #fff; border: 1px solid #e1e4e8;",
    "  overflow-wrap: anywhere; }",
    ".msg p { margin: 0 0 6px; } .msg p:last-child { margin-bottom: 0; }",
    ".user { align-self: flex-end; max-width: 85%; background: var(--pqa-accent); border-color: transparent;",
    "  color: #fff; white-space: pre-wrap; }",
    ".busy { color: #59636e; font-style: italic; }",
    ".notice { background: #fff8e6; border-color: #d4a72c; color: #4d3800; }",
    ".refusal { background: #fdecec; border-color: #d1242f; color: #6e0f14; font-weight: 600; }",
    ".hit { margin: 0 0 12px; } .hit:last-child { margin-bottom: 0; }",
    ".cite { font-size: 14px; }",
    "a { color: #0b57d0; font-weight: 600; text-decoration: underline; }",
    ".q { margin: 4px 0 2px; }",
    ".ref { font-style: italic; color: #59636e; }",
    "blockquote { margin: 4px 0 0; padding: 2px 10px; border-left: 3px solid #d0d7de; color: #3d444d;",
    "  white-space: pre-line; }",
    "mark { background: #fff3a3; color: inherit; padding: 0 1px; }",
    ".related { margin: 14px 0 6px; font-size: 12px; font-weight: 700; text-transform: uppercase; color: #59636e; }",
    "ul { margin: 4px 0 0; padding-left: 20px; }",
    ".ask { display: flex; gap: 8px; margin: 0; padding: 10px; border-top: 1px solid #e1e4e8; background: #fff; }",
    "textarea { flex: 1; min-height: 42px; max-height: 120px; margin: 0; padding: 9px 10px; resize: none;",
    "  border: 1px solid #8c959f; border-radius: 8px; background: #fff; color: #1f2328; font-size: 15px; }",
    ".send { margin: 0; padding: 0 16px; border: 0; border-radius: 8px; background: var(--pqa-accent);",
    "  color: #fff; font-size: 15px; font-weight: 600; cursor: pointer; }",
    "textarea:disabled, .send:disabled { opacity: .55; cursor: not-allowed; }",
    ":focus-visible { outline: 3px solid #1f2328; outline-offset: 2px; }",
    ".head :focus-visible { outline-color: #fff; }",
    "textarea:focus-visible { outline: 2px solid var(--pqa-accent); outline-offset: 1px; }",
    ".feedback { display: flex; flex-wrap: wrap; align-items: center; gap: 6px; margin: 8px 0 0; padding-top: 6px;",
    "  border-top: 1px solid #e1e4e8; font-size: 13px; color: #59636e; }",
    ".thumb { margin: 0; padding: 2px 10px; border: 1px solid #8c959f; border-radius: 6px; background: #fff;",
    "  color: #1f2328; font-size: 13px; font-weight: 600; line-height: 1.4; cursor: pointer; }",
    ".thumb[aria-pressed=true] { border-color: var(--pqa-accent); background: var(--pqa-accent); color: #fff; }",
    ".feedback textarea { flex: 1 1 100%; min-height: 36px; font-size: 14px; }",
    ".feedback .send-comment { margin: 0; padding: 3px 9px; border: 1px solid var(--pqa-accent); border-radius: 6px;",
    "  background: #fff; color: var(--pqa-accent); font-size: 13px; font-weight: 600; cursor: pointer; }",
    ".sr-only { position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden;",
    "  clip: rect(0 0 0 0); white-space: nowrap; border: 0; }"
  ].join("\n");

  function readFilters() {
    var filters = {};
    if (data.filters) {
      try {
        var given = JSON.parse(data.filters);
        Object.keys(given || {}).forEach(function (k) {
          if (typeof given[k] === "string") {
            filters[k] = given[k];
          }
        });
      } catch (err) {
        console.warn("Parlement Q&A widget: data-filters is not valid JSON and is ignored.", err);
      }
    }
    if (data.department) {
      filters.department = data.department;
    }
    return filters;
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, name) {
      return String(values[name]);
    });
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  function safeUrl(url) {
    try {
      var u = new URL(url, BASE);
      return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
    } catch (err) {
      return null;
    }
  }

  function link(url, text) {
    var a = el("a", "", text);
    var href = safeUrl(url);
    if (href) {
      a.href = href;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      a.appendChild(el("span", "sr-only", T.newTab));
    }
    return a;
  }

  /* The Belgian export's code for a table it sent as an annex ("2016201714157-2-1249-bil-1"), said in words as the
     chat says it (markup.ANNEX_NOTE): the table is not in the export. */
  var ANNEX = /\b20\d\d20\d\d\d{4,6}-\d+-\d+(?:-(?:nl|fr|bil|de))*(?:-\d+)?\b/g;
  function plain(text) {
    return text.replace(ANNEX, " [tabel in bijlage, niet in de export] ");
  }

  /* The answer's text with its best sentences in <mark>, clipped like the chat clips it (never inside a span). */
  function marked(text, spans) {
    var box = el("blockquote");
    var sorted = (spans || []).slice().sort(function (a, b) {
      return a[0] - b[0];
    });
    var end = sorted.reduce(function (m, s) {
      return Math.max(m, s[1]);
    }, CLIP);
    var pos = 0;
    sorted.forEach(function (s) {
      if (s[0] < pos || s[1] <= s[0]) {
        return;
      }
      box.appendChild(document.createTextNode(plain(text.slice(pos, s[0]))));
      box.appendChild(el("mark", "", plain(text.slice(s[0], s[1]))));
      pos = s[1];
    });
    box.appendChild(document.createTextNode(plain(text.slice(pos, end)) + (text.length > end ? " \u2026" : "")));
    return box;
  }

  function hitNode(hit) {
    var c = hit.citation;
    var node = el("div", "hit");
    var cite = el("p", "cite");
    cite.appendChild(link(hit.source_url, c.label));
    node.appendChild(cite);
    var q = el("p", "q");
    q.appendChild(el("strong", "", T.question + " " + c.part + ": "));
    q.appendChild(document.createTextNode(hit.question || ""));
    node.appendChild(q);
    if (c.via_ref) {
      node.appendChild(el("p", "ref", fill(T.refers, { part: c.part, ref: c.via_ref })));
    }
    node.appendChild(marked(hit.answer || "", hit.highlights));
    return node;
  }

  /* "Ik begreep: ..." above a follow-up's answer (the server's Dutch line, shown as it is), with one click to ask the
   * same question apart from the conversation. */
  function understoodNode(answer, reask) {
    var node = el("div", "understood");
    node.appendChild(el("p", "", answer.understood));
    var again = el("button", "reask", T.reask);
    again.type = "button";
    again.setAttribute("aria-label", fill(T.reaskLabel, { question: answer.question || "" }));
    again.addEventListener("click", function () {
      if (reask(answer.question || "")) {
        again.disabled = true;
      }
    });
    node.appendChild(again);
    return node;
  }

  function answerNode(answer, reask) {
    var box = el("div", "msg bot answer");
    if (answer.understood && typeof answer.understood === "string") {
      box.appendChild(understoodNode(answer, reask));
    }
    if (answer.abstained) {
      // the server's Dutch message names the words no document uses; an English panel keeps its own sentence
      var dutch = T === STRINGS.nl && typeof answer.message === "string" && answer.message;
      box.appendChild(el("p", "", dutch ? answer.message : T.noAnswer));
      if ((answer.suggestions || []).length) {
        box.appendChild(el("p", "", T.suggestions));
        var list = el("ul");
        answer.suggestions.forEach(function (hit) {
          var item = el("li");
          item.appendChild(link(hit.source_url, hit.citation.label));
          item.appendChild(document.createTextNode(": " + (hit.question || "").slice(0, 160)));
          list.appendChild(item);
        });
        box.appendChild(list);
      }
      return box;
    }
    answer.answers.forEach(function (hit) {
      box.appendChild(hitNode(hit));
    });
    if ((answer.related || []).length) {
      box.appendChild(el("p", "related", T.related));
      answer.related.forEach(function (hit) {
        box.appendChild(hitNode(hit));
      });
    }
    return box;
  }

  function build() {
    var host = el("div");
    host.setAttribute("data-pqa-widget", KEY);
    var root = host.attachShadow({ mode: "open" });
    // A constructed stylesheet is not inline style, so a page's Content-Security-Policy need not allow that.
    if (root.adoptedStyleSheets !== undefined && typeof CSSStyleSheet === "function") {
      try {
        var sheet = new CSSStyleSheet();
        sheet.replaceSync(CSS_TEXT);
        root.adoptedStyleSheets = [sheet];
      } catch (err) {
        root.appendChild(el("style", "", CSS_TEXT));
      }
    } else {
      root.appendChild(el("style", "", CSS_TEXT));
    }

    var wrap = el("div", LEFT ? "pqa left" : "pqa");
    wrap.style.setProperty("--pqa-accent", ACCENT);

    var panel = el("section", "panel");
    panel.id = "pqa-panel";
    panel.hidden = true;
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-modal", "false");
    panel.setAttribute("aria-labelledby", "pqa-title");

    var head = el("div", "head");
    var title = el("h2", "", TITLE);
    title.id = "pqa-title";
    var closer = el("button", "close");
    closer.type = "button";
    closer.setAttribute("aria-label", T.close);
    closer.appendChild(el("span", "", "\u00d7")).setAttribute("aria-hidden", "true");
    var restart = el("button", "restart", T.restart);
    restart.type = "button";
    restart.setAttribute("aria-label", T.restartLabel);
    head.appendChild(title);
    head.appendChild(restart);
    head.appendChild(closer);

    var log = el("div", "log");
    log.setAttribute("role", "log");
    log.setAttribute("aria-live", "polite");
    log.setAttribute("aria-label", TITLE);
    var greeting = log.appendChild(el("p", "msg bot greeting", data.greeting || T.greeting));

    var form = el("form", "ask");
    var label = el("label", "sr-only", T.label);
    label.htmlFor = "pqa-q";
    var box = el("textarea");
    box.id = "pqa-q";
    box.rows = 1;
    box.maxLength = QUESTION_MAX;
    box.placeholder = T.placeholder;
    box.setAttribute("enterkeyhint", "send");
    var send = el("button", "send", T.send);
    send.type = "submit";
    form.appendChild(label);
    form.appendChild(box);
    form.appendChild(send);

    panel.appendChild(head);
    panel.appendChild(log);
    panel.appendChild(form);

    var launcher = el("button", "launcher");
    launcher.type = "button";
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-controls", "pqa-panel");
    launcher.setAttribute("aria-label", T.open + ": " + TITLE);
    launcher.appendChild(el("span", "icon", "?")).setAttribute("aria-hidden", "true");
    launcher.appendChild(el("span", "", T.launcher));

    wrap.appendChild(panel);
    wrap.appendChild(launcher);
    root.appendChild(wrap);
    document.body.appendChild(host);

    var checked = false;
    var refused = false;
    var busy = false;
    var turns = []; // the conversation so far, oldest first: {question, cited: ["doc#part", ...]}
    var generation = 0; // a new conversation ignores the answer to a question of the old one

    function show(node) {
      log.appendChild(node);
      log.scrollTop = Math.max(0, node.offsetTop - 14); // the start of the newest message, not the end
      return node;
    }

    function notice(text, className) {
      var node = el("p", "msg " + (className || "notice"), text);
      node.setAttribute("role", "alert");
      return show(node);
    }

    function refuse(reason) {
      if (refused) {
        return;
      }
      refused = true;
      box.disabled = true;
      send.disabled = true;
      var template = reason === "unknown_key" ? T.refusedKey : T.refusedOrigin;
      notice(fill(template, { key: KEY, origin: window.location.origin }), "refusal");
      closer.focus();
    }

    // Whether this page may use the key, and why not. Readable from any page, so a refusal is shown in words
    // even where the browser blocks the answers themselves (a disallowed origin gets no CORS headers).
    function check() {
      checked = true;
      return fetch(API + "check", { method: "POST", mode: "cors", credentials: "omit", cache: "no-store" })
        .then(function (r) {
          return r.json();
        })
        .then(function (verdict) {
          if (!verdict.allowed) {
            refuse(verdict.reason);
          }
          return verdict.allowed;
        })
        .catch(function () {
          return null;
        });
    }

    function post(action, payload) {
      return fetch(API + action, {
        method: "POST",
        mode: "cors",
        credentials: "omit",
        cache: "no-store",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(payload)
      }).then(function (r) {
        return r
          .json()
          .catch(function () {
            return {};
          })
          .then(function (body) {
            return { status: r.status, body: body };
          });
      });
    }

    // Two thumbs under an answer; the first click stores a verdict, the other thumb or a comment amends it.
    function feedbackNode(question, shown) {
      var node = el("div", "feedback");
      node.appendChild(el("span", "", T.helpful));
      var receipt = null;
      var rating = null;
      var comment = null;
      var status = el("span", "status");
      status.setAttribute("role", "status");
      function thumb(value, symbol, label) {
        var b = el("button", "thumb", symbol);
        b.type = "button";
        b.setAttribute("aria-label", label);
        b.setAttribute("aria-pressed", "false");
        b.addEventListener("click", function () {
          give(value, comment ? comment.value.trim() : "");
        });
        return b;
      }
      // Words, not emoji: a system without an emoji font would show empty boxes.
      var up = node.appendChild(thumb("up", T.yes, T.up));
      var down = node.appendChild(thumb("down", T.no, T.down));
      node.appendChild(status);
      function give(value, text) {
        var payload = { rating: value, question: question, cited: shown, comment: text };
        if (receipt) {
          payload.amend = receipt;
        }
        return post("feedback", payload)
          .then(function (res) {
            if (res.status !== 200) {
              status.textContent = (res.body && res.body.detail) || T.unreachable;
              return false;
            }
            receipt = { id: res.body.id, secret: res.body.secret };
            rating = value;
            up.setAttribute("aria-pressed", String(value === "up"));
            down.setAttribute("aria-pressed", String(value === "down"));
            status.textContent = text ? T.commentSaved : T.thanks;
            if (!comment) {
              addComment();
            }
            return true;
          })
          .catch(function () {
            status.textContent = T.unreachable;
            return false;
          });
      }
      function addComment() {
        comment = el("textarea");
        comment.maxLength = 1000;
        comment.rows = 2;
        comment.setAttribute("aria-label", T.comment);
        comment.placeholder = T.comment;
        var send = el("button", "send-comment", T.commentSend);
        send.type = "button";
        send.addEventListener("click", function () {
          var text = comment.value.trim();
          if (text && rating) {
            give(rating, text);
          }
        });
        node.appendChild(comment);
        node.appendChild(send);
      }
      return node;
    }

    function cited(answer) {
      if (answer.abstained) {
        return [];
      }
      return (answer.answers || [])
        .concat(answer.related || [])
        .map(function (hit) {
          return hit.citation.doc_id + "#" + hit.citation.part;
        })
        .slice(0, CITED_MAX);
    }

    // Every part the answer showed (suggestions too), for the feedback: what the reader judged.
    function shownParts(answer) {
      return (answer.answers || [])
        .concat(answer.related || [], answer.suggestions || [])
        .map(function (hit) {
          return hit.citation.doc_id + "#" + hit.citation.part;
        })
        .slice(0, 20);
    }

    // The request body with as many of the latest turns as the server's size cap allows.
    function requestBody(question, alone) {
      var history = alone ? [] : turns.slice(-HISTORY_TURNS);
      var encoder = typeof TextEncoder === "function" ? new TextEncoder() : null;
      for (;;) {
        var body = JSON.stringify({ question: question, filters: FILTERS, history: history });
        var size = encoder ? encoder.encode(body).length : body.length * 3;
        if (size <= BODY_BYTES || !history.length) {
          return body;
        }
        history = history.slice(1);
      }
    }

    function ask() {
      var question = box.value.trim();
      if (!question || busy || refused) {
        return;
      }
      if (question.length > QUESTION_MAX) {
        notice(fill(T.tooLong, { n: question.length, max: QUESTION_MAX }));
        return;
      }
      box.value = "";
      if (root.activeElement === send) {
        box.focus(); // after a click on "send", the next question is typed where the last one was
      }
      put(question, false);
    }

    // Ask `question`, in the conversation or (`alone`) as a new question that takes the place of the follow-up it
    // was read as. False when it cannot be asked now.
    function put(question, alone) {
      if (!question || busy || refused) {
        return false;
      }
      busy = true;
      var mine = generation;
      show(el("p", "msg user", question));
      var waiting = show(el("p", "msg busy", T.busy));
      log.setAttribute("aria-busy", "true");
      fetch(API + "ask", {
        method: "POST",
        mode: "cors",
        credentials: "omit",
        cache: "no-store",
        headers: { "Content-Type": "application/json" },
        body: requestBody(question, alone)
      })
        .then(function (r) {
          return r
            .json()
            .catch(function () {
              return {};
            })
            .then(function (body) {
              return { status: r.status, body: body, retry: r.headers.get("Retry-After") };
            });
        })
        .then(function (res) {
          waiting.remove();
          if (mine !== generation) {
            return; // the conversation was restarted while this one was asked
          }
          if (res.status === 200) {
            if (alone) {
              turns.pop();
            }
            turns = turns.concat([{ question: question, cited: cited(res.body) }]).slice(-HISTORY_TURNS);
            var shownAnswer = answerNode(res.body, function (again) {
              return put(again, true);
            });
            shownAnswer.appendChild(feedbackNode(question, shownParts(res.body)));
            show(shownAnswer);
          } else if (res.status === 403) {
            refuse(res.body.reason);
          } else if (res.status === 429) {
            var seconds = parseInt(res.retry || res.body.retry_after || "60", 10);
            notice(fill(T.tooMany, { seconds: seconds }));
          } else {
            notice(res.body.detail || T.unreachable);
          }
        })
        .catch(function () {
          // Blocked by the browser (no CORS headers for this page) or no network: ask the server which.
          waiting.remove();
          return check().then(function (allowed) {
            if (allowed !== false) {
              notice(T.unreachable);
            }
          });
        })
        .then(function () {
          if (mine === generation) {
            busy = false;
            log.removeAttribute("aria-busy");
          }
          send.disabled = refused;
        });
      return true;
    }

    function startOver() {
      generation += 1;
      turns = [];
      Array.prototype.slice.call(log.children).forEach(function (node) {
        if (node !== greeting && !node.classList.contains("refusal")) {
          node.remove();
        }
      });
      busy = false;
      log.removeAttribute("aria-busy");
      if (!refused) {
        box.value = "";
        box.focus();
      }
    }

    function open() {
      panel.hidden = false;
      launcher.setAttribute("aria-expanded", "true");
      if (!checked) {
        check();
      }
      (refused ? closer : box).focus();
    }

    function close() {
      panel.hidden = true;
      launcher.setAttribute("aria-expanded", "false");
      launcher.focus();
    }

    launcher.addEventListener("click", function () {
      if (panel.hidden) {
        open();
      } else {
        close();
      }
    });
    closer.addEventListener("click", close);
    restart.addEventListener("click", startOver);
    wrap.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && !panel.hidden) {
        e.preventDefault();
        e.stopPropagation();
        close();
      }
    });
    box.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        ask();
      }
    });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      ask();
    });
  }

  if (document.body) {
    build();
  } else {
    document.addEventListener("DOMContentLoaded", build);
  }
})();
