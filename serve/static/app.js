/* Flywheel review: keyboard shortcuts as a progressive enhancement. The
 * pages work without this file; it only moves focus and checks options.
 * No inline handlers anywhere: the Content-Security-Policy forbids them. */
'use strict';
(function () {
  document.documentElement.classList.add('js');
  var submitting = false;

  function typing(el) {
    if (!el) return false;
    var t = el.tagName;
    if (t === 'TEXTAREA' || t === 'SELECT') return true;
    if (t === 'INPUT') {
      var ty = (el.type || '').toLowerCase();
      return ty !== 'radio' && ty !== 'checkbox' && ty !== 'button' && ty !== 'submit';
    }
    return el.isContentEditable;
  }

  function fields() {
    return Array.prototype.slice.call(document.querySelectorAll('aside.rubric fieldset[data-field]'));
  }
  function currentField() {
    var el = document.activeElement;
    return el && el.closest ? el.closest('aside.rubric fieldset[data-field]') : null;
  }
  function focusField(fs) {
    if (!fs) return;
    var target = fs.querySelector('input:checked') || fs.querySelector('input, select, textarea');
    if (target) target.focus();
  }
  function sentences() {
    return Array.prototype.slice.call(document.querySelectorAll('ol.sents li[data-sent]'));
  }
  function currentSentence() {
    var el = document.activeElement;
    return el && el.closest ? el.closest('ol.sents li[data-sent]') : null;
  }
  function moveSentence(step) {
    var all = sentences();
    if (!all.length) return;
    var cur = currentSentence();
    var i = cur ? all.indexOf(cur) + step : (step > 0 ? 0 : all.length - 1);
    if (i < 0) i = 0;
    if (i >= all.length) i = all.length - 1;
    all.forEach(function (li) { li.classList.remove('current'); });
    all[i].classList.add('current');
    all[i].focus();
  }
  function labelSentence(li, n) {
    var sel = li.querySelector('select');
    if (!sel) return;
    if (n === 0) sel.selectedIndex = 0;
    else if (n < sel.options.length) sel.selectedIndex = n;
    else return;
    li.classList.toggle('labelled', sel.selectedIndex > 0);
    var tag = li.querySelector('.spantag');
    if (tag) tag.textContent = sel.selectedIndex > 0 ? sel.options[sel.selectedIndex].text : '';
    markDirty();
  }
  function submitWith(action) {
    var form = document.getElementById('review-form');
    if (!form || submitting) return;
    var btn = form.querySelector('button[name=action][value="' + action + '"]');
    if (!btn) return;
    if (document.activeElement && document.activeElement.blur) document.activeElement.blur();
    submitting = true;
    form.requestSubmit ? form.requestSubmit(btn) : btn.click();
    setTimeout(function () { submitting = false; }, 4000);
  }
  function markDirty() {
    var s = document.getElementById('dirty');
    if (s) s.textContent = 'unsaved changes';
  }
  function toggleHelp(show) {
    var h = document.getElementById('shortcuts');
    if (!h) return;
    h.classList.toggle('open', show === undefined ? !h.classList.contains('open') : show);
  }

  document.addEventListener('keydown', function (e) {
    var el = document.activeElement;
    if ((e.ctrlKey || e.metaKey) && !e.altKey && (e.key === 'Enter')) {
      e.preventDefault();
      if (e.repeat) return;
      submitWith('submit');
      return;
    }
    if ((e.ctrlKey || e.metaKey) && !e.altKey && (e.key === 's' || e.key === 'S')) {
      if (document.getElementById('review-form')) {
        e.preventDefault();
        if (!e.repeat) submitWith('draft');
      }
      return;
    }
    if (e.key === 'Escape') {
      toggleHelp(false);
      if (typing(el)) {
        var fs = el.closest && el.closest('fieldset[data-field]');
        el.blur();
        if (fs) fs.focus();
      }
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey || typing(el)) return;
    if (e.key === '?') { e.preventDefault(); toggleHelp(); return; }
    if (e.key === 'g') {
      var gl = document.getElementById('guidelines-link');
      if (gl) { e.preventDefault(); gl.click(); }
      return;
    }
    if (e.key === 'j' || e.key === 'k') { e.preventDefault(); moveSentence(e.key === 'j' ? 1 : -1); return; }
    var li = currentSentence();
    if (li && /^[0-9]$/.test(e.key)) { e.preventDefault(); labelSentence(li, +e.key); return; }
    var fsets = fields();
    var cur = currentField();
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      if (!fsets.length) return;
      e.preventDefault();
      var i = cur ? fsets.indexOf(cur) + (e.key === 'ArrowDown' ? 1 : -1) : 0;
      if (i < 0) i = 0;
      if (i >= fsets.length) i = fsets.length - 1;
      focusField(fsets[i]);
      return;
    }
    if (cur && /^[1-9]$/.test(e.key)) {
      var opts = cur.querySelectorAll('input[type=radio]');
      var n = +e.key;
      if (n <= opts.length) {
        e.preventDefault();
        opts[n - 1].checked = true;
        opts[n - 1].focus();
        markDirty();
      }
      return;
    }
    if ((e.key === 'a' || e.key === 'b' || e.key === 'e') && cur && cur.dataset.type === 'pairwise') {
      var v = e.key === 'a' ? 'A' : e.key === 'b' ? 'B' : 'tie';
      var radio = cur.querySelector('input[data-side="' + v + '"]');
      if (radio) { e.preventDefault(); radio.checked = true; radio.focus(); markDirty(); }
    }
  });

  document.addEventListener('change', function (e) {
    if (e.target && e.target.closest && e.target.closest('#review-form')) markDirty();
    var li = e.target && e.target.closest && e.target.closest('ol.sents li[data-sent]');
    if (li) labelSentence(li, e.target.selectedIndex);
  });
  document.addEventListener('submit', function (e) {
    if (e.target && e.target.id === 'review-form') {
      if (submitting && e.submitter && e.submitter.value === 'submit' && e.target.dataset.sent) {
        e.preventDefault();
        return;
      }
      e.target.dataset.sent = '1';
    }
  });
  document.addEventListener('click', function (e) {
    var a = e.target && e.target.closest && e.target.closest('a[href="#shortcuts"]');
    if (a) { e.preventDefault(); toggleHelp(); }
  });
  document.addEventListener('DOMContentLoaded', function () {
    sentences().forEach(function (li) { li.setAttribute('tabindex', '-1'); });
    var first = document.querySelector('aside.rubric fieldset[data-field]');
    if (first && !document.querySelector('[autofocus]')) focusField(first);
  });
})();
