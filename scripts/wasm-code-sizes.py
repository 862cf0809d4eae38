"""Code size of a .wasm by function and by area of the crate, from its name section.

Usage: python3 scripts/wasm-code-sizes.py FILE.wasm [TOP]
Keep the names: build with `wasm-bindgen --keep-debug` and run wasm-opt with `--debuginfo`, e.g.

  bash scripts/cargo-wasm-release.sh
  wasm-bindgen --keep-debug --target web --out-dir /tmp/w target/wasm32-unknown-unknown/release/sipwasm.wasm
  node_modules/.bin/wasm-opt -Oz --debuginfo --enable-bulk-memory --enable-nontrapping-float-to-int \
    --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
    /tmp/w/sipwasm_bg.wasm -o /tmp/w.wasm
  python3 scripts/wasm-code-sizes.py /tmp/w.wasm 30
"""
import sys, re, collections
b=open(sys.argv[1],'rb').read()
def leb(i):
    r=0;s=0
    while True:
        x=b[i];i+=1;r|=(x&0x7f)<<s;s+=7
        if x<0x80: return r,i
i=8; nimports=0; code=None; names={}
while i<len(b):
    sid=b[i];i+=1; size,i=leb(i); end=i+size
    if sid==2:
        n,j=leb(i)
        for _ in range(n):
            l,j=leb(j); j+=l; l,j=leb(j); j+=l; kind=b[j]; j+=1
            if kind==0: nimports+=1; _,j=leb(j)
            elif kind==1: j+=1; fl,j=leb(j); _,j=leb(j); 
            elif kind==2: fl,j=leb(j); _,j=leb(j); 
            elif kind==3: j+=2
            else: raise Exception(kind)
            if kind==1 and fl&1: _,j=leb(j)
            if kind==2 and fl&1: _,j=leb(j)
    elif sid==10:
        n,j=leb(i); code=[]
        for k in range(n):
            sz,j=leb(j); code.append(sz); j+=sz
    elif sid==0:
        nl,j=leb(i); nm=b[j:j+nl].decode(); j+=nl
        if nm=='name':
            while j<end:
                sub=b[j]; j+=1; ssz,j=leb(j); se=j+ssz
                if sub==1:
                    cnt,k=leb(j)
                    for _ in range(cnt):
                        idx,k=leb(k); l,k=leb(k); names[idx]=b[k:k+l].decode('utf8','replace'); k+=l
                j=se
    i=end
tot=collections.Counter()
rows=[]
for k,sz in enumerate(code):
    # std rebuilt from source (scripts/cargo-wasm-release.sh) names crates with a hash: core[1b80...]
    nm=re.sub(r'\[[0-9a-f]+\]','',names.get(k+nimports,'?'))
    rows.append((sz,nm))
    cat='other'
    for pat,c in [(r'fmt|Display|Debug|Formatter|Arguments','fmt'),(r'sip::message|sipwasm_message','message'),(r'sip::(ua|registration|connection|config|rng)','ua'),(r'sip::(session|dialog)','calls'),(r'sip::transaction','tsx'),(r'sip::auth|sha2|md5|digest','auth'),(r'sipwasm::web|wasm_bindgen|js_sys|web_sys','web'),(r'dlmalloc|alloc::|core::|std::','std')]:
        if re.search(pat,nm): cat=c;break
    tot[cat]+=sz
print(sum(code), dict(tot))
for sz,nm in sorted(rows,reverse=True)[:int(sys.argv[2]) if len(sys.argv)>2 else 25]: print(sz,nm[:150])
