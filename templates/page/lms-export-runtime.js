/*
 * lms-export run time: the quiz of a card page, and its report to a SCORM LMS.
 *
 * No framework and no network: the page works opened from a folder, and inside
 * an LMS it talks only to the LMS's own API object. It scores by the rules of
 * lms_export/scoring.py (the tests check that both agree), finds the SCORM API
 * the way the standard describes (API or API_1484_11 in a parent or opener
 * window), reports each answer as an interaction and commits it at once,
 * because browsers block commits while a page unloads; it saves the answers in
 * suspend_data so a learner who leaves comes back to them, and finishes the
 * session when the page goes away.
 */
(function () {
  "use strict";

  /* How options are named in responses and saved answers: one character each, as SCORM 1.2 requires. */
  var ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

  /* ---- scoring: lms_export/scoring.py, applied to the same answers ---- */

  /* Python's str.strip() removes exactly these characters; String.prototype.trim() a different set. */
  var SPACE = "[\\t-\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";
  var EDGES = new RegExp("^" + SPACE + "+|" + SPACE + "+$", "g");
  /* What Python's float() reads, once its digits are ASCII. */
  var FLOAT = /^[+-]?(?:(?:\d(?:_?\d)*)?\.\d(?:_?\d)*|\d(?:_?\d)*\.?)(?:[eE][+-]?\d(?:_?\d)*)?$/;
  var SPECIAL = /^[+-]?(?:inf|infinity|nan)$/i;
  var DIGIT = /\p{Nd}/u;

  function strip(text) {
    return String(text).replace(EDGES, "");
  }

  /* str.casefold(), as far as case mappings go: lower, upper, lower; dotless i and final sigma as Python folds them. */
  function fold(text) {
    return text.split("ı").map(function (part) {
      return part.toLowerCase().toUpperCase().toLowerCase().replace(/ς/g, "σ");
    }).join("ı");
  }

  /* float() reads any Unicode decimal digit; each run of ten digits counts up from its zero. */
  function asciiDigits(text) {
    return text.replace(/\p{Nd}/gu, function (digit) {
      var code = digit.codePointAt(0), zero = code;
      while (DIGIT.test(String.fromCodePoint(zero - 1))) {
        zero--;
      }
      return String((code - zero) % 10);
    });
  }

  /* float(text.strip().replace(",", ".")), or NaN where Python raises. */
  function pyFloat(text) {
    var s = asciiDigits(strip(text)).replace(/,/g, ".");
    if (SPECIAL.test(s)) {
      return /nan/i.test(s) ? NaN : (s.charAt(0) === "-" ? -Infinity : Infinity);
    }
    return FLOAT.test(s) ? Number(s.replace(/_/g, "")) : NaN;
  }

  function sameSet(a, b) {
    var x = a.slice().sort(), y = b.slice().sort();
    x = x.filter(function (v, i) { return i === 0 || v !== x[i - 1]; });
    return x.length === y.length && x.every(function (v, i) { return v === y[i]; });
  }

  /* The points a response earns; responses name options by their place on the page. */
  function grade(q, key, r) {
    var full = q.points;
    switch (q.type) {
      case "single_choice":
      case "true_false":
        return r === key.answer ? full : 0;
      case "multiple_answers":
        return sameSet(r, key.answer) ? full : 0;
      case "short_answer":
        var given = strip(r);
        return key.answers.some(function (a) {
          return key.caseSensitive ? strip(a) === given : fold(strip(a)) === fold(given);
        }) ? full : 0;
      case "numerical":
        var value = pyFloat(r);
        return key.bounds[0] <= value && value <= key.bounds[1] ? full : 0;
      case "matching":
        var right = key.answer.filter(function (target, i) { return r[i] === target; }).length;
        return right * (full / key.answer.length);
      case "ordering":
        return r.length === key.answer.length && r.every(function (place, i) { return place === key.answer[i]; }) ? full : 0;
    }
    return 0;
  }

  /* ---- numbers, times and text as SCORM writes them ---- */

  function decimal(value, digits) {
    return new Intl.NumberFormat("en-US", { useGrouping: false, maximumFractionDigits: digits }).format(value + 0);
  }

  function two(n) {
    return (n < 10 ? "0" : "") + n;
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (all, name) {
      return name in values ? values[name] : all;
    });
  }

  /* ---- the LMS: SCORM 1.2 or 2004, found the standard way ---- */

  function findApi(name) {
    function climb(win) {
      for (var hops = 0; win && hops < 500; hops++) {
        try {
          if (win[name]) {
            return win[name];
          }
        } catch (e) {
          return null; /* a window of another origin: the API is not there */
        }
        if (win.parent === win) {
          return null;
        }
        win = win.parent;
      }
      return null;
    }
    var api = climb(window);
    try {
      api = api || climb(window.opener) || climb(window.top.opener);
    } catch (e) {
      /* an opener of another origin */
    }
    return api;
  }

  var VERSIONS = {
    "1.2": {
      api: "API", init: "LMSInitialize", get: "LMSGetValue", set: "LMSSetValue", commit: "LMSCommit", finish: "LMSFinish",
      learner: "cmi.core.student_id", location: "cmi.core.lesson_location", exit: "cmi.core.exit",
      session: "cmi.core.session_time", response: "student_response",
      wrong: "wrong", suspendLimit: 4096, textLimit: 255, normalExit: "",
      time: function (date) {
        return two(date.getHours()) + ":" + two(date.getMinutes()) + ":" + two(date.getSeconds());
      },
      span: function (ms) {
        var cs = Math.round(ms / 10), hours = Math.min(Math.floor(cs / 360000), 9999);
        return two(hours) + ":" + two(Math.floor(cs / 6000) % 60) + ":" + two(Math.floor(cs / 100) % 60) + "." + two(cs % 100);
      },
      sep: ",", pair: ".", bool: ["f", "t"],
      choices: function (list) { return "{" + list + "}"; },
      text: function (typed) { return typed; }
    },
    "2004": {
      api: "API_1484_11", init: "Initialize", get: "GetValue", set: "SetValue", commit: "Commit", finish: "Terminate",
      learner: "cmi.learner_id", location: "cmi.location", exit: "cmi.exit",
      session: "cmi.session_time", response: "learner_response",
      wrong: "incorrect", suspendLimit: 64000, textLimit: 250, normalExit: "normal",
      time: function (date) {
        return date.toISOString().slice(0, 22) + "Z";
      },
      span: function (ms) {
        var cs = Math.round(ms / 10);
        return "PT" + Math.floor(cs / 360000) + "H" + Math.floor(cs / 6000) % 60 + "M" +
          Math.floor(cs / 100) % 60 + "." + two(cs % 100) + "S";
      },
      sep: "[,]", pair: "[.]", bool: ["false", "true"],
      choices: function (list) { return list; },
      /* "[,]" separates answers, and a leading "{" opens a language tag */
      text: function (typed) { return typed.split("[,]").join(",").replace(/^\{/, "("); }
    }
  };

  /* The LMS session, or null: with no LMS the page is a quiz and nothing more. */
  function connect(version) {
    var v = VERSIONS[version];
    var api = v && findApi(v.api);
    if (!api || String(api[v.init]("")) !== "true") {
      return null;
    }
    var started = Date.now();
    return {
      v: v,
      version: version,
      get: function (element) {
        var value = api[v.get](element);
        return value === null || value === undefined ? "" : String(value);
      },
      set: function (element, value) {
        api[v.set](element, String(value));
      },
      commit: function () {
        this.set(v.session, v.span(Date.now() - started));
        api[v.commit]("");
      },
      finish: function (complete) {
        this.set(v.exit, complete ? v.normalExit : "suspend");
        this.set(v.session, v.span(Date.now() - started));
        api[v.finish]("");
      }
    };
  }

  /* ---- the page ---- */

  function readJson(id) {
    var element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  var quiz = readJson("lms-export-quiz");
  if (!quiz) {
    return;
  }
  var keys = readJson("lms-export-key") || [];
  var text = quiz.text;
  var questions = quiz.questions;
  var sections = questions.map(function (q) { return document.getElementById(q.id); });
  var answers = questions.map(function () { return null; });
  var earned = questions.map(function () { return 0; });
  var total = questions.reduce(function (sum, q) { return sum + q.points; }, 0);
  var lms = null;
  var finished = false;

  function all(root, selector) {
    return Array.prototype.slice.call(root.querySelectorAll(selector));
  }

  function points(value) {
    return decimal(value, 2);
  }

  /* The learner's answer from the controls, or the reason there is none yet. */
  function read(q, section) {
    var checked = all(section, "input:checked");
    switch (q.type) {
      case "single_choice":
        return checked.length ? { value: Number(checked[0].value) } : { problem: "need_answer" };
      case "true_false":
        return checked.length ? { value: checked[0].value === "true" } : { problem: "need_answer" };
      case "multiple_answers":
        return checked.length ? { value: checked.map(function (c) { return Number(c.value); }) } : { problem: "need_answer" };
      case "short_answer":
        var typed = section.querySelector("input[type=text]").value;
        return strip(typed) ? { value: typed } : { problem: "need_text" };
      case "numerical":
        var number = section.querySelector("input[type=text]").value;
        return isFinite(pyFloat(number)) ? { value: number } : { problem: "need_number" };
      case "matching":
        var chosen = all(section, "select").map(function (s) { return s.value === "" ? null : Number(s.value); });
        return chosen.indexOf(null) < 0 ? { value: chosen } : { problem: "need_all" };
      case "ordering":
        return { value: all(section, "li[data-place]").map(function (li) { return Number(li.getAttribute("data-place")); }) };
    }
    return { problem: "need_answer" };
  }

  /* Put a saved answer back into the controls. */
  function show(q, section, r) {
    if (q.type === "short_answer" || q.type === "numerical") {
      section.querySelector("input[type=text]").value = r;
    } else if (q.type === "matching") {
      all(section, "select").forEach(function (s, i) { s.value = String(r[i]); });
    } else if (q.type === "ordering") {
      var list = section.querySelector(".order");
      r.forEach(function (place) { list.appendChild(list.querySelector("li[data-place='" + place + "']")); });
    } else {
      var chosen = q.type === "true_false" ? [String(r)] : [].concat(r).map(String);
      all(section, "input").forEach(function (input) { input.checked = chosen.indexOf(input.value) >= 0; });
    }
  }

  function showFeedback(i, r) {
    var q = questions[i], key = keys[i], box = sections[i].querySelector(".feedback");
    var share = grade({ type: q.type, points: 1 }, key, r);
    var verdict = share === 1 ? "correct" : share > 0 ? "partly" : "incorrect";
    var parts = [];
    if (q.type === "single_choice" || q.type === "multiple_answers") {
      [].concat(r).forEach(function (choice) { parts.push(key.choices[choice]); });
    }
    parts.push(key.feedback[verdict === "correct" ? "correct" : "incorrect"], key.feedback.general);
    box.textContent = "";
    var head = document.createElement("p");
    head.className = "verdict";
    head.textContent = text[verdict] + " " + fill(text.earned, { earned: points(earned[i]), points: points(q.points) });
    box.appendChild(head);
    parts.filter(Boolean).forEach(function (html) {
      var part = document.createElement("div");
      part.innerHTML = html; /* sanitized by lms-export when the page was built */
      box.appendChild(part);
    });
    box.className = "feedback " + verdict;
    box.hidden = false;
    return verdict === "correct";
  }

  function lock(section) {
    all(section, "input, select, button").forEach(function (control) { control.disabled = true; });
  }

  function percent() {
    return total > 0 ? decimal(earned.reduce(function (a, b) { return a + b; }, 0) / total * 100, 2) : null;
  }

  /* The pass mark the LMS set, in its own terms (1.2: percent; 2004: scaled); the built-in one with no LMS. */
  function passMark() {
    if (!lms) {
      return quiz.passScore;
    }
    var mark = lms.get(lms.version === "1.2" ? "cmi.student_data.mastery_score" : "cmi.scaled_passing_score");
    return mark === "" || !isFinite(Number(mark)) ? null : Number(mark);
  }

  /* Passed or not, compared as the LMS will compare what it is told; null with no pass mark. */
  function passed() {
    var mark = passMark();
    if (mark === null || total <= 0) {
      return null;
    }
    var sum = earned.reduce(function (a, b) { return a + b; }, 0);
    return lms && lms.version === "2004" ? Number(decimal(sum / total, 7)) >= mark : Number(percent()) >= mark;
  }

  function complete() {
    return answers.every(function (a) { return a !== null; });
  }

  function showScore() {
    var line = document.getElementById("lms-export-score");
    var sum = earned.reduce(function (a, b) { return a + b; }, 0);
    var answered = answers.filter(function (a) { return a !== null; }).length;
    if (!complete()) {
      line.textContent = fill(text.progress, { answered: answered, count: questions.length, earned: points(sum), points: points(total) });
      return;
    }
    var message = fill(text.final, { earned: points(sum), points: points(total), percent: percent() === null ? "-" : percent() });
    var pass = passed();
    if (pass !== null) {
      var mark = lms && lms.version === "2004" ? passMark() * 100 : passMark();
      message += " " + fill(pass ? text.passed : text.failed, { pass: decimal(mark, 2) });
    }
    line.textContent = message;
  }

  /* ---- what the LMS is told ---- */

  function learnerResponse(q, r, v) {
    switch (q.type) {
      case "true_false":
        return v.bool[r ? 1 : 0];
      case "single_choice":
        return ALPHABET.charAt(r);
      case "multiple_answers":
        return v.choices(r.slice().sort().map(function (c) { return ALPHABET.charAt(c); }).join(v.sep));
      case "short_answer":
        return v.text(strip(r)).slice(0, v.textLimit);
      case "numerical":
        var number = decimal(pyFloat(r), 7);
        return /^-?\d{1,10}(\.\d+)?$/.test(number) ? number : null;
      case "matching":
        return r.map(function (target, i) { return ALPHABET.charAt(i) + v.pair + ALPHABET.charAt(target); }).join(v.sep);
      case "ordering":
        return r.map(function (place) { return ALPHABET.charAt(place); }).join(v.sep);
    }
    return null;
  }

  function reportAnswer(i, r, correct) {
    var v = lms.v, q = questions[i], report = q.report;
    var n = "cmi.interactions." + (Number(lms.get("cmi.interactions._count")) || 0) + ".";
    lms.set(n + "id", report.id);
    lms.set(n + "type", report.type);
    if (report.description) {
      lms.set(n + "description", report.description);
    }
    lms.set(n + (lms.version === "1.2" ? "time" : "timestamp"), v.time(new Date()));
    lms.set(n + "weighting", report.weighting);
    report.patterns.forEach(function (pattern, k) {
      lms.set(n + "correct_responses." + k + ".pattern", pattern);
    });
    var response = learnerResponse(q, r, v);
    if (response !== null) {
      lms.set(n + v.response, response);
    }
    lms.set(n + "result", correct ? "correct" : v.wrong);
  }

  /* Score first, then the status: some LMSs drop a score set after the status. */
  function reportResult() {
    var sum = earned.reduce(function (a, b) { return a + b; }, 0);
    var pass = passed();
    if (lms.version === "1.2") {
      if (total > 0) {
        lms.set("cmi.core.score.min", "0");
        lms.set("cmi.core.score.max", "100");
        lms.set("cmi.core.score.raw", percent());
      }
      lms.set("cmi.core.lesson_status", pass === null ? "completed" : pass ? "passed" : "failed");
    } else {
      if (total > 0) {
        lms.set("cmi.score.scaled", decimal(sum / total, 7));
        lms.set("cmi.score.raw", decimal(sum, 7));
        lms.set("cmi.score.min", "0");
        lms.set("cmi.score.max", decimal(total, 7));
      }
      lms.set("cmi.completion_status", "completed");
      if (pass !== null) {
        lms.set("cmi.success_status", pass ? "passed" : "failed");
      }
    }
  }

  /* ---- saved answers: "version|answer,answer,...", in the order of the questions ---- */

  function escapeText(value) {
    return value.replace(/[%,|]/g, function (c) { return "%" + c.charCodeAt(0).toString(16).toUpperCase(); });
  }

  function encode(q, r) {
    if (r === null) {
      return "";
    }
    switch (q.type) {
      case "true_false":
        return r ? "t" : "f";
      case "short_answer":
      case "numerical":
        return "~" + escapeText(r);
      default:
        return [].concat(r).map(function (place) { return ALPHABET.charAt(place); }).join("");
    }
  }

  function decode(q, token) {
    if (!token) {
      return null;
    }
    var places = token.split("").map(function (c) { return ALPHABET.indexOf(c); });
    switch (q.type) {
      case "true_false":
        return token === "t";
      case "short_answer":
      case "numerical":
        return decodeURIComponent(token.slice(1));
      case "single_choice":
        return places[0];
      default:
        return places;
    }
  }

  function saved() {
    var tokens = questions.map(function (q, i) { return encode(q, answers[i]); });
    var data = quiz.version + "|" + tokens.join(",");
    /* SCORM 1.2 keeps 4,096 characters: past that, the last answers are not restored (they are reported all the same). */
    while (data.length > lms.v.suspendLimit) {
      tokens.pop();
      data = quiz.version + "|" + tokens.join(",");
    }
    return data.replace(/,+$/, "");
  }

  function restore(data) {
    var bar = data.indexOf("|");
    if (bar < 0 || data.slice(0, bar) !== quiz.version) {
      return;
    }
    data.slice(bar + 1).split(",").forEach(function (token, i) {
      if (i < questions.length && token) {
        record(i, decode(questions[i], token), false);
      }
    });
  }

  /* Where the learner goes on: the next unanswered question, or the one just answered. */
  function nextPlace(i) {
    for (var k = 1; k <= questions.length; k++) {
      var j = (i + k) % questions.length;
      if (answers[j] === null) {
        return questions[j].id;
      }
    }
    return questions[i].id;
  }

  /* ---- answering ---- */

  function record(i, r, fresh) {
    var q = questions[i], section = sections[i];
    answers[i] = r;
    earned[i] = grade(q, keys[i], r);
    if (!fresh) {
      show(q, section, r);
    }
    lock(section);
    var correct = showFeedback(i, r);
    showScore();
    if (!fresh) {
      return;
    }
    section.querySelector(".feedback").focus();
    if (lms) {
      reportAnswer(i, r, correct);
      if (complete()) {
        reportResult();
      }
      lms.set("cmi.suspend_data", saved());
      lms.set(lms.v.location, nextPlace(i));
      lms.commit();
    }
  }

  function check(i) {
    var section = sections[i], got = read(questions[i], section);
    section.querySelector(".message").textContent = got.problem ? text[got.problem] : "";
    if (!got.problem) {
      record(i, got.value, true);
    }
  }

  function move(section, button) {
    var item = button.parentNode.parentNode, list = item.parentNode;
    var up = button.classList.contains("up");
    /* Move the neighbour, not the item: the focused button stays where it is in the document. */
    if (up && item.previousElementSibling) {
      list.insertBefore(item.previousElementSibling, item.nextElementSibling);
    } else if (!up && item.nextElementSibling) {
      list.insertBefore(item.nextElementSibling, item);
    }
    orderButtons(section);
    if (button.disabled) {
      button.parentNode.querySelector(up ? ".down" : ".up").focus();
    }
    var items = all(list, "li");
    section.querySelector(".moved").textContent = fill(text.moved, {
      item: item.querySelector(".item").textContent, position: items.indexOf(item) + 1, count: items.length
    });
  }

  function orderButtons(section) {
    var items = all(section, ".order li");
    items.forEach(function (item, k) {
      item.querySelector(".up").disabled = k === 0;
      item.querySelector(".down").disabled = k === items.length - 1;
    });
  }

  /* A stable shuffle per learner and question: the same order on every visit. */
  function hash(value) {
    var h = 0x811c9dc5;
    for (var k = 0; k < value.length; k++) {
      h = Math.imul(h ^ value.charCodeAt(k), 0x01000193) >>> 0;
    }
    return h;
  }

  function shuffle(section, seed) {
    var list = section.querySelector(".choices");
    all(list, "li").map(function (li, k) { return { li: li, rank: hash(seed + "\u001f" + k) }; })
      .sort(function (a, b) { return a.rank - b.rank; })
      .forEach(function (entry) { list.appendChild(entry.li); });
  }

  function startVideos() {
    all(document, ".player[data-embed]").forEach(function (player) {
      var button = player.querySelector("button");
      button.hidden = !navigator.onLine; /* offline, the plain link above is all there is */
      button.addEventListener("click", function () {
        var frame = document.createElement("iframe");
        frame.src = player.getAttribute("data-embed");
        frame.title = player.getAttribute("data-title");
        frame.allow = "fullscreen; picture-in-picture; encrypted-media";
        frame.allowFullscreen = true;
        player.replaceChild(frame, button);
      });
    });
  }

  function start() {
    startVideos();
    lms = connect(quiz.scorm);
    var learner = lms ? lms.get(lms.v.learner) : "";
    sections.forEach(function (section, i) {
      var q = questions[i];
      if (q.shuffle) {
        shuffle(section, learner + "\u001f" + q.id);
      }
      if (q.type === "ordering") {
        orderButtons(section);
      }
      section.addEventListener("click", function (event) {
        var button = event.target.closest("button");
        if (!button || button.disabled) {
          return;
        }
        if (button.classList.contains("check")) {
          check(i);
        } else {
          move(section, button);
        }
      });
    });
    if (!lms) {
      return;
    }
    restore(lms.get("cmi.suspend_data"));
    var place = document.getElementById(lms.get(lms.v.location) + "-title");
    if (place && !complete()) {
      place.focus();
    }
    if (lms.version === "1.2") {
      var status = lms.get("cmi.core.lesson_status");
      if (status === "" || status === "not attempted" || status === "browsed") {
        lms.set("cmi.core.lesson_status", questions.length ? "incomplete" : "completed");
      }
    } else if (lms.get("cmi.completion_status") !== "completed") {
      lms.set("cmi.completion_status", questions.length ? "incomplete" : "completed");
    }
    lms.commit();
    window.addEventListener("pagehide", function () {
      if (!finished) {
        finished = true;
        lms.finish(complete());
      }
    });
  }

  /* For a host page or a test: the points a response to question i of this page earns. */
  window.lmsExport = Object.freeze({
    grade: function (i, response) {
      return grade(questions[i], keys[i], response);
    }
  });

  start();
})();
